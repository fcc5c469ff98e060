// HTTP allowlists and the shell sandbox's network and limits.
import { useState } from "react";
import type { HttpConfig, Setting, ShellSettings } from "../../api/tools";
import { commaList } from "../../format";
import { onSubmit } from "../../forms";

interface FormProps<T> {
  config: T;
  busy: boolean;
  onSave: (settings: Setting[]) => Promise<boolean>;
}

export function HttpConfigForm({ config, busy, onSave }: FormProps<HttpConfig>) {
  const [hosts, setHosts] = useState(config.allowed_hosts.join(", "));
  const [internal, setInternal] = useState(config.allowed_internal.join(", "));
  const save = () =>
    void onSave([
      { key: "allowed_hosts", value: commaList(hosts).join(",") },
      { key: "allowed_internal", value: commaList(internal).join(",") },
    ]);
  return (
    <form className="row" onSubmit={onSubmit(save)} data-testid="http-config-form">
      <label>
        Allowed hosts (comma-separated; *.example.com for subdomains)
        <input data-testid="http-allowed-hosts" value={hosts} onChange={(e) => setHosts(e.target.value)} size={40} />
      </label>
      <label>
        Allowed internal host:port (loopback and private addresses)
        <input data-testid="http-allowed-internal" value={internal} onChange={(e) => setInternal(e.target.value)} size={30} />
      </label>
      <button type="submit" disabled={busy} data-testid="http-save">
        Save HTTP settings
      </button>
    </form>
  );
}

export function ShellConfigForm({ config, busy, onSave }: FormProps<ShellSettings>) {
  const [ports, setPorts] = useState(config.tcp_ports.join(", "));
  const [limits, setLimits] = useState({
    wall_seconds: String(config.wall_seconds),
    memory_mb: String(config.memory_mb),
    max_processes: String(config.max_processes),
    max_output_kb: String(config.max_output_kb),
  });
  const limit = (key: keyof typeof limits, label: string) => (
    <label>
      {label}
      <input
        type="number"
        min={1}
        data-testid={`shell-${key}`}
        value={limits[key]}
        onChange={(e) => setLimits({ ...limits, [key]: e.target.value })}
      />
    </label>
  );
  const save = () =>
    void onSave([
      { key: "tcp_ports", value: commaList(ports).join(",") },
      ...Object.entries(limits).map(([key, value]) => ({ key, value: value.trim() })),
    ]);
  return (
    <form className="row" onSubmit={onSubmit(save)} data-testid="shell-config-form">
      <label>
        TCP ports commands may connect to (empty: no network)
        <input data-testid="shell-tcp-ports" value={ports} onChange={(e) => setPorts(e.target.value)} />
      </label>
      {limit("wall_seconds", "Time limit (s)")}
      {limit("memory_mb", "Memory (MiB)")}
      {limit("max_processes", "Processes")}
      {limit("max_output_kb", "Output (KiB)")}
      <button type="submit" disabled={busy} data-testid="shell-save">
        Save shell settings
      </button>
    </form>
  );
}
