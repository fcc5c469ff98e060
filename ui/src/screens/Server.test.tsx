import { fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, handler: (event: { payload: unknown }) => void) => bus.listen(name, handler),
}));

import { eventBus, person, renderInShell, workspaceAs } from "../test-support";
import { Server } from "./Server";

const bus = eventBus();

const PIN = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

function status(online: boolean, pending: number, error: string | null = null) {
  return {
    url: "https://127.0.0.1:8443",
    pins: [PIN],
    device_id: "dev-1",
    device_fingerprint: "SHA256:device",
    server_fingerprint: "SHA256:server",
    joined_at: "2026-12-04T20:00:00.000Z",
    online,
    chains: [
      {
        scope: "instance",
        name: "Acme Corp",
        local_seq: 12,
        receipted_seq: 12 - pending,
        pending,
        last_receipt: null,
        last_success: online ? "2026-12-04T20:01:00.000Z" : null,
        last_error: error,
        stopped: false,
      },
    ],
  };
}

function inShell() {
  return renderInShell(<Server />, person("alice", "admin", [workspaceAs("admin")]));
}

describe("Server", () => {
  let joined: ReturnType<typeof status> | null;

  beforeEach(() => {
    joined = null;
    invoke.mockReset();
    invoke.mockImplementation(async (command: string, args: { url: string; pins: string[]; token: string }) => {
      switch (command) {
        case "server_status":
          if (!joined) throw { code: "sync.not_joined", message: "this installation has not joined a server" };
          return joined;
        case "join_server":
          if (args.pins[0] !== PIN) throw { code: "sync.pin_mismatch", message: "the server presented a certificate whose pin is sha256//other" };
          joined = status(false, 12);
          return { url: args.url, device_id: "dev-1", device_fingerprint: "SHA256:device", server_fingerprint: "SHA256:server" };
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("joins with the pin, shows both fingerprints and each chain, and follows the background sync", async () => {
    inShell();
    await screen.findByTestId("server-join");
    fireEvent.change(screen.getByTestId("join-url"), { target: { value: "https://127.0.0.1:8443" } });
    fireEvent.change(screen.getByTestId("join-pin"), { target: { value: "sha256//other" } });
    fireEvent.change(screen.getByTestId("join-token"), { target: { value: "tok" } });
    fireEvent.submit(screen.getByTestId("server-join"));
    expect((await screen.findByTestId("server-error")).textContent).toContain("pin is sha256//other");
    expect(screen.getByTestId("server-join")).toBeTruthy();

    fireEvent.change(screen.getByTestId("join-pin"), { target: { value: PIN } });
    fireEvent.submit(screen.getByTestId("server-join"));
    await screen.findByTestId("server-device-fingerprint");
    expect(invoke).toHaveBeenCalledWith("join_server", { url: "https://127.0.0.1:8443", pins: [PIN], token: "tok", name: "" });
    expect(screen.getByTestId("server-device-fingerprint").textContent).toBe("SHA256:device");
    expect(screen.getByTestId("server-fingerprint").textContent).toBe("SHA256:server");
    expect(screen.getByTestId("offline-badge")).toBeTruthy();
    expect(screen.getByTestId("server-pending").textContent).toBe("12 events");

    // The background sync reaches the server: the screen re-reads the status.
    joined = status(true, 0);
    bus.emit("sync-updated", true);
    await waitFor(() => expect(screen.getByTestId("server-pending").textContent).toBe("0 events"));
    expect(screen.getByTestId("online-badge")).toBeTruthy();
    expect(screen.queryByTestId("offline-badge")).toBeNull();

    // And loses it again, with the error and what to do.
    joined = status(false, 3, "cannot reach the server at https://127.0.0.1:8443 (connection refused); local work goes on");
    bus.emit("sync-updated", false);
    await screen.findByTestId("offline-badge");
    expect(screen.getByTestId("server-chain-instance").textContent).toContain("local work goes on");
    expect(screen.getByTestId("server-chain-instance").textContent).toContain("Acme Corp (organisation)");
  });
});
