import { fireEvent, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { KekRotation } from "./KekRotation";
import { person, renderInShell } from "../test-support";

const admin = person("alice", "admin", []);

describe("KekRotation", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("rotates a keychain KEK without asking anything", async () => {
    invoke.mockResolvedValue(2);
    const onChanged = vi.fn(async () => undefined);
    renderInShell(<KekRotation protection="keychain" onChanged={onChanged} />, admin);
    expect(screen.queryByTestId("kek-passphrase")).toBeNull();
    fireEvent.submit(screen.getByTestId("kek-form"));
    expect((await screen.findByTestId("kek-result")).textContent).toBe("Every key is now wrapped by KEK version 2.");
    expect(invoke).toHaveBeenCalledWith("rotate_kek", { newPassphrase: null });
    expect(onChanged).toHaveBeenCalledTimes(1);
  });

  it("asks for the new passphrase twice in passphrase mode", async () => {
    invoke.mockResolvedValue(3);
    renderInShell(<KekRotation protection="passphrase" onChanged={vi.fn(async () => undefined)} />, admin);
    fireEvent.change(screen.getByTestId("kek-passphrase"), { target: { value: "a new long passphrase" } });
    fireEvent.change(screen.getByTestId("kek-passphrase-confirm"), { target: { value: "a different one!!" } });
    fireEvent.submit(screen.getByTestId("kek-form"));
    expect((await screen.findByTestId("kek-error")).textContent).toBe("The two passphrases differ.");
    expect(invoke).not.toHaveBeenCalled();

    fireEvent.change(screen.getByTestId("kek-passphrase-confirm"), { target: { value: "a new long passphrase" } });
    fireEvent.submit(screen.getByTestId("kek-form"));
    await screen.findByTestId("kek-result");
    expect(invoke).toHaveBeenCalledWith("rotate_kek", { newPassphrase: "a new long passphrase" });
    expect(screen.queryByTestId("kek-error")).toBeNull();
  });
});
