// A progress bar for long work the shell reports step by step (audit verification, export).
export interface ProgressBarProps {
  done: number;
  total: number;
  /** What is counted ("events verified"). */
  unit: string;
  label: string;
  testid: string;
}

export function ProgressBar({ done, total, unit, label, testid }: ProgressBarProps) {
  const complete = done >= total;
  return (
    <div className="progress" data-testid={testid} data-complete={complete ? "true" : "false"}>
      <progress aria-label={label} value={total === 0 ? 1 : done} max={total === 0 ? 1 : total} />
      <span className="muted" data-testid={`${testid}-text`}>
        {done} / {total} {unit}
      </span>
    </div>
  );
}
