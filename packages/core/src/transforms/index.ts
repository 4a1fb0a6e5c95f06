// Built-in record transforms: descriptors, their config schemas, and the helpers to build and chain them.
export { CAST_TARGETS, type CastConfig, type CastTarget, castConfigSchema, castTransform } from './cast.js';
export { type CdcUnwrapConfig, cdcUnwrapConfigSchema, cdcUnwrapTransform } from './cdc-unwrap.js';
export {
  type DropConfig,
  dropConfigSchema,
  dropTransform,
  type SelectConfig,
  type SetConfig,
  selectConfigSchema,
  selectTransform,
  setConfigSchema,
  setTransform,
} from './fields.js';
export {
  FILTER_OPS,
  type FilterConfig,
  type FilterOp,
  filterConfigSchema,
  filterTransform,
} from './filter.js';
export { type FlattenConfig, flattenConfigSchema, flattenTransform } from './flatten.js';
export {
  changeKeyCase,
  KEY_CASE_MODES,
  type KeyCaseMode,
  type KeysCaseConfig,
  keysCaseConfigSchema,
  keysCaseTransform,
  type SnakeCaseConfig,
  snakeCaseConfigSchema,
  snakeCaseTransform,
  splitKeyWords,
} from './keys-case.js';
export {
  type BuiltinTransformId,
  builtinTransform,
  builtinTransforms,
  composeTransforms,
  createTransform,
  type TransformSpec,
} from './registry.js';
export { type RenameKeysConfig, renameKeysConfigSchema, renameKeysTransform } from './rename-keys.js';
