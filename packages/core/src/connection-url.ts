/** What faucet needs of a connection URL for its messages: the password, to scrub it. */
import { Redactor } from './redact.js';

/**
 * A redactor for the password of one connection URL (`scheme://user:password@host`, or a
 * `?password=` parameter), raw and percent-decoded. Every length counts: the one password of a
 * connection URL is known exactly, so even a short one is scrubbed (merge a run's redactor into it for
 * the other secrets). A text that is not a URL gives an empty redactor.
 */
export function connectionUrlRedactor(connectionUrl: string): Redactor {
  const secrets = new Set<string>();
  try {
    const url = new URL(connectionUrl);
    for (const value of [url.password, url.searchParams.get('password') ?? '']) {
      if (value === '') continue;
      secrets.add(value);
      try {
        secrets.add(decodeURIComponent(value));
      } catch {
        // A malformed escape: the raw form is already listed.
      }
    }
  } catch {
    // Not a URL: nothing to find in it.
  }
  return new Redactor(secrets, { minLength: 1 });
}
