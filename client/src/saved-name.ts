/** The player's name, kept in the browser between visits and handed from the landing page to a game's page. */
const KEY = "locus.name";

export const savedName = (): string => localStorage.getItem(KEY) ?? "";

export const saveName = (name: string): void => localStorage.setItem(KEY, name);
