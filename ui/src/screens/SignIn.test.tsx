import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { SignIn } from "./SignIn";

function fillAndSubmit(username: string, password: string) {
  fireEvent.change(screen.getByTestId("signin-username"), { target: { value: username } });
  fireEvent.change(screen.getByTestId("signin-password"), { target: { value: password } });
  fireEvent.submit(screen.getByTestId("signin-form"));
}

describe("SignIn", () => {
  beforeEach(() => invoke.mockReset());

  it("shows the core's error and clears the password on failure", async () => {
    invoke.mockRejectedValueOnce({ code: "auth_failed", message: "sign-in failed: unknown user or wrong password" });
    const onSignedIn = vi.fn();
    render(<SignIn orgName="Acme" onSignedIn={onSignedIn} />);
    fillAndSubmit("alice", "wrong password!");
    expect(await screen.findByTestId("signin-error")).toHaveProperty(
      "textContent",
      "sign-in failed: unknown user or wrong password",
    );
    expect((screen.getByTestId("signin-password") as HTMLInputElement).value).toBe("");
    expect(onSignedIn).not.toHaveBeenCalled();
    expect(invoke).toHaveBeenCalledWith("sign_in", { username: "alice", password: "wrong password!" });
  });

  it("hands the signed-in user to the app on success", async () => {
    const me = { user_id: "u1", username: "alice", org_role: "Admin", org_name: "Acme", session_expires_at: "", workspaces: [] };
    invoke.mockResolvedValueOnce(me);
    const onSignedIn = vi.fn();
    render(<SignIn orgName="Acme" onSignedIn={onSignedIn} />);
    fillAndSubmit("alice", "correct horse battery staple");
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(me));
    expect(screen.queryByTestId("signin-error")).toBeNull();
  });
});
