// The audit filters: time range, actor, action (exact, or a prefix ending in `.` or `*`),
// outcome and run. Times are entered in local time and sent as RFC 3339 UTC.
import { useState, type FormEvent } from "react";
import { NO_FILTER, type AuditFilter, type AuditFilterForm } from "../../api/audit";

export const OUTCOMES = ["allowed", "denied", "failed", "pending"] as const;

export interface AuditFiltersProps {
  busy: boolean;
  onApply: (filter: AuditFilter) => void;
}

/** A `datetime-local` value as RFC 3339 UTC; empty stays empty. */
export function toRfc3339(local: string): string {
  if (!local) return "";
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? local : time.toISOString();
}

export function AuditFilters({ busy, onApply }: AuditFiltersProps) {
  const [form, setForm] = useState<AuditFilterForm>(NO_FILTER);
  const field = (key: keyof AuditFilterForm) => ({
    value: String(form[key] ?? ""),
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    onApply({
      ...form,
      since: toRfc3339(form.since),
      until: toRfc3339(form.until),
      actor: form.actor.trim(),
      action: form.action.trim(),
      run: form.run.trim(),
    });
  }

  function reset() {
    setForm(NO_FILTER);
    onApply(NO_FILTER);
  }

  return (
    <form className="row" onSubmit={submit} data-testid="audit-filters">
      <label>
        Since
        <input type="datetime-local" data-testid="audit-filter-since" {...field("since")} />
      </label>
      <label>
        Until
        <input type="datetime-local" data-testid="audit-filter-until" {...field("until")} />
      </label>
      <label>
        Actor
        <input data-testid="audit-filter-actor" placeholder="username or id" {...field("actor")} />
      </label>
      <label>
        Action
        <input data-testid="audit-filter-action" placeholder="auth. or tool.*" {...field("action")} />
      </label>
      <label>
        Outcome
        <select data-testid="audit-filter-outcome" {...field("outcome")}>
          <option value="">any</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
      <label>
        Run
        <input data-testid="audit-filter-run" placeholder="run id" {...field("run")} />
      </label>
      <button type="submit" disabled={busy} data-testid="audit-filter-apply">
        Apply filters
      </button>
      <button type="button" className="secondary" disabled={busy} onClick={reset} data-testid="audit-filter-reset">
        Clear
      </button>
    </form>
  );
}
