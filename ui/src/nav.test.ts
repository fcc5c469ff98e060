import { describe, expect, it } from "vitest";
import { visibleScreens } from "./nav";
import { person, workspaceAs } from "./test-support";

function ids(...args: Parameters<typeof visibleScreens>) {
  return visibleScreens(...args).map((i) => i.id);
}

describe("visibleScreens", () => {
  it("offers an Admin every screen", () => {
    const ws = workspaceAs("admin");
    expect(ids(person("alice", "admin", [ws]), ws)).toEqual(["home", "workspaces", "members", "users", "keys"]);
  });

  it("offers an Operator only home and the member list, nothing administrative", () => {
    const ws = workspaceAs("operator");
    expect(ids(person("oscar", "operator", [ws]), ws)).toEqual(["home", "members"]);
  });

  it("offers nothing but home to someone without a workspace and without org capabilities", () => {
    expect(ids(person("vera", "viewer", []), null)).toEqual(["home"]);
  });

  it("follows the current workspace: keys and workspace settings where the role is Admin only", () => {
    const mine = workspaceAs("admin", "Mine", "ws-a");
    const theirs = workspaceAs("viewer", "Theirs", "ws-b");
    const me = person("olga", "viewer", [mine, theirs]);
    expect(ids(me, mine)).toEqual(["home", "workspaces", "members", "keys"]);
    expect(ids(me, theirs)).toEqual(["home", "members"]);
  });

  it("offers Users to org.users and Keys to org.security even without a workspace", () => {
    expect(ids(person("root", "admin", []), null)).toEqual(["home", "workspaces", "members", "users", "keys"]);
  });
});
