/**
 * Escaping text into the HTML and SVG the reports write: one function, since both parse the five
 * predefined entities alike.
 */
export function escapeMarkup(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}
