/**
 * Credentials never reach a log line, an error message or a terminal: every URL a message may
 * carry (REDIS_URL above all) is shown with its password masked.
 */

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;

/** `text` with the password of every URL in it replaced by `***` (a bare user-info, which may be a password, too). */
export function redactUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, (_, scheme: string, userInfo: string) => {
    const colon = userInfo.indexOf(":");
    return `${scheme}${colon < 0 ? "***" : `${userInfo.slice(0, colon)}:***`}@`;
  });
}
