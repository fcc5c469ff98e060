// Form helpers shared by screens.
import type { FormEvent } from "react";

/** A form's submit handler that runs `work` instead of reloading the page. */
export function onSubmit(work: () => void) {
  return (event: FormEvent) => {
    event.preventDefault();
    work();
  };
}
