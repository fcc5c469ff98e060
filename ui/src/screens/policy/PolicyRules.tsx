// Argument rules in evaluation order, each with its description; add one written as JSON or in
// the compact syntax, remove one by id.
import { useState } from "react";
import type { RuleSummary } from "../../api/tools";
import { onSubmit } from "../../forms";

export interface PolicyRulesProps {
  rules: RuleSummary[];
  canManage: boolean;
  busy: boolean;
  onAdd: (text: string) => Promise<boolean>;
  onRemove: (id: string) => Promise<boolean>;
}

const EXAMPLE = "big-mail: on email.send when recipients > 5 then raise critical # mass mailing";

export function PolicyRules({ rules, canManage, busy, onAdd, onRemove }: PolicyRulesProps) {
  const [text, setText] = useState("");

  async function add() {
    if (await onAdd(text.trim())) setText("");
  }

  return (
    <div className="panel" data-testid="policy-rules">
      <h2>Argument rules</h2>
      <ul className="rules">
        {rules.map((r) => (
          <li key={r.id} data-testid="policy-rule" data-id={r.id}>
            <span data-testid="policy-rule-description">{r.description}</span>
            {canManage && (
              <button className="link" disabled={busy} onClick={() => void onRemove(r.id)} data-testid="policy-rule-remove">
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {canManage && (
        <form onSubmit={onSubmit(() => void add())} data-testid="policy-rule-form" className="confirm">
          <label>
            New rule (JSON, or <code>ID: on TARGET [when COND {"{and COND}"}] then EFFECT [# NOTE]</code>)
            <textarea
              data-testid="policy-rule-text"
              rows={3}
              placeholder={EXAMPLE}
              value={text}
              onChange={(e) => setText(e.target.value)}
              required
            />
          </label>
          <button type="submit" disabled={busy} data-testid="policy-rule-add">
            Add rule
          </button>
        </form>
      )}
    </div>
  );
}
