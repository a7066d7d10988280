// Failures that a retry cannot mend (an execution provider that does not start): the pool's
// retry loop (runWithRetry in ./worker-pool.ts) gives up on them at once instead of rebuilding
// the batch and failing the same way twice more. Errors cross the worker boundary by structured
// clone, which keeps an Error's message but drops its own properties and any non-standard name,
// so the mark travels as the first characters of the message.

const MARK = "[permanent] ";

/**
 * An Error whose message carries the mark; `message` is what the user will read.
 * @param {string} message
 * @returns {Error}
 */
export function permanentFailure(message) {
  return new Error(MARK + message);
}

/**
 * Whether `err` (possibly cloned across a worker boundary) carries the mark.
 * @param {unknown} err
 * @returns {boolean}
 */
export function isPermanentFailure(err) {
  return err instanceof Error && err.message.startsWith(MARK);
}

/**
 * The message of `err` without the mark.
 * @param {unknown} err
 * @returns {string}
 */
export function failureMessage(err) {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(MARK) ? message.slice(MARK.length) : message;
}
