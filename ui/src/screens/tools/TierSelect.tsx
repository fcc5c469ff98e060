// A risk tier picker for one tool action; read-only text for people without policy.manage.
import { TIERS, type Tier } from "../../api/tools";

export interface TierSelectProps {
  action: string;
  tier: string;
  canChange: boolean;
  busy: boolean;
  onChange: (tier: Tier) => void;
  testid: string;
}

export function TierSelect({ action, tier, canChange, busy, onChange, testid }: TierSelectProps) {
  if (!canChange) {
    return (
      <span className={`tier tier-${tier}`} data-testid={testid}>
        {tier}
      </span>
    );
  }
  return (
    <select
      aria-label={`Tier of ${action}`}
      data-testid={testid}
      value={tier}
      disabled={busy}
      onChange={(e) => onChange(e.target.value as Tier)}
    >
      {TIERS.map((t) => (
        <option key={t} value={t}>
          {t}
        </option>
      ))}
    </select>
  );
}
