export { readPart, readParts } from '@faucet/test-support';
