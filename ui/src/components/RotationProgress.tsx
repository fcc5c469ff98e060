// A progress bar for key rotation: rows re-encrypted out of rows to do.
import type { KeyProgress } from "../events";

export function RotationProgress({ progress, label }: { progress: KeyProgress; label: string }) {
  const complete = progress.done >= progress.total;
  return (
    <div className="progress" data-testid="rotation-progress" data-complete={complete ? "true" : "false"}>
      <progress
        aria-label={label}
        value={progress.total === 0 ? 1 : progress.done}
        max={progress.total === 0 ? 1 : progress.total}
      />
      <span className="muted" data-testid="rotation-progress-text">
        {progress.done} / {progress.total} rows re-encrypted
      </span>
    </div>
  );
}
