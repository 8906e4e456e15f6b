import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SECRET_NAME, type SecretStore, type SecretVersion } from "../ports/secret-store.js";

/**
 * Secrets as files for local use: `<dir>/<name>/<version>`, readable by the owner only.
 * A version's name starts with its creation time, so names sort by age; files are created
 * exclusively and never rewritten, so two processes adding at once both keep their version.
 */
export class FileSecretStore implements SecretStore {
  readonly description: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.description = `files under ${this.dir}`;
  }

  async latest(name: string): Promise<string | undefined> {
    const [newest] = (await this.versions(name)).sort((a, b) => b.version.localeCompare(a.version));
    return newest && this.get(name, newest.version);
  }

  async versions(name: string): Promise<SecretVersion[]> {
    let files: string[];
    try {
      files = await readdir(this.secretDir(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return files.filter((f) => /^\d{15}-[0-9a-f]{8}$/.test(f)).map(toVersion);
  }

  async get(name: string, version: string): Promise<string> {
    return readFile(join(this.secretDir(name), version), "utf8");
  }

  async add(name: string, value: string): Promise<SecretVersion> {
    const dir = this.secretDir(name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const version = `${String(Date.now()).padStart(15, "0")}-${randomBytes(4).toString("hex")}`;
    await writeFile(join(dir, version), value, { mode: 0o600, flag: "wx" });
    return toVersion(version);
  }

  private secretDir(name: string): string {
    if (!SECRET_NAME.test(name)) throw new Error(`invalid secret name "${name}"`);
    return join(this.dir, name);
  }
}

function toVersion(version: string): SecretVersion {
  return { version, createdOn: new Date(Number(version.slice(0, 15))), enabled: true };
}
