// The foot of a paged list: how many of how many are shown, and a button for the next page.
// Shows nothing once the whole list is shown.
import type { Page } from "../api/generated";

export interface ShowMoreProps<T> {
  page: Page<T> | null;
  busy: boolean;
  onMore: () => void;
  /** Prefix of the test ids: `<testId>-count` and `<testId>-more`. */
  testId: string;
}

export function ShowMore<T>({ page, busy, onMore, testId }: ShowMoreProps<T>) {
  if (!page?.next_cursor) return null;
  return (
    <p className="row">
      <span className="muted" data-testid={`${testId}-count`}>
        {page.items.length} of {page.total} shown
      </span>
      <button className="secondary" disabled={busy} onClick={onMore} data-testid={`${testId}-more`}>
        Show more
      </button>
    </p>
  );
}
