/** What a page is: mounted once into the main area, refreshed in place (live pages on a timer). */
export interface Page {
  title: string;
  /** Re-reads the data and redraws the page's data area (its controls stay as they are). */
  refresh(): Promise<void>;
  /** Live pages refresh this often. */
  refreshMs?: number;
}

export type PageFactory = (root: HTMLElement) => Page;
