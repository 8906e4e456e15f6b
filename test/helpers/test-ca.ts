import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A server certificate issued by a test CA, as files and as text. */
export interface IssuedCertificate {
  /** PEM: the leaf, then the intermediate (what a server must send). */
  certFile: string;
  keyFile: string;
  /** PKCS#12 with the key, the leaf and the intermediate, protected by `pfxPassword`. */
  pfxFile: string;
  pfxPassword: string;
  /** PEM text of the leaf alone (to tell certificates apart). */
  leafPem: string;
}

/** A root CA (which clients trust) and an intermediate that signs server certificates. */
export interface TestCa {
  /** The root certificate, PEM: what goes into a client's trust (`ca.crt`). */
  rootFile: string;
  rootPem: string;
  /** Issues a server certificate for loopback and the given DNS names. */
  issue(name: string, dnsNames?: string[]): IssuedCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

/**
 * A two-level CA made with the openssl CLI in `dir` (EC P-256 keys, valid two days). The
 * intermediate makes the tests prove that the server sends the whole chain: clients trust
 * the root alone.
 */
export function createTestCa(dir: string, label = "Stowage test"): TestCa {
  mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    ["req", "-x509", ...ec, "-keyout", "root.key", "-out", "root.crt", "-days", "2", "-subj", `/CN=${label} root CA`],
    dir,
  );
  writeFileSync(
    join(dir, "ca.ext"),
    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
  );
  openssl(["req", ...ec, "-keyout", "inter.key", "-out", "inter.csr", "-subj", `/CN=${label} intermediate CA`], dir);
  openssl(
    ["x509", "-req", "-in", "inter.csr", "-CA", "root.crt", "-CAkey", "root.key", "-CAcreateserial"].concat([
      "-days",
      "2",
      "-extfile",
      "ca.ext",
      "-out",
      "inter.crt",
    ]),
    dir,
  );
  return {
    rootFile: join(dir, "root.crt"),
    rootPem: readFileSync(join(dir, "root.crt"), "utf8"),
    issue(name, dnsNames = []) {
      const names = ["localhost", ...dnsNames].map((n) => `DNS:${n}`);
      writeFileSync(
        join(dir, `${name}.ext`),
        `subjectAltName=IP:127.0.0.1,${names.join(",")}\nbasicConstraints=CA:FALSE\n` +
          "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
      );
      openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
      openssl(
        ["x509", "-req", "-in", `${name}.csr`, "-CA", "inter.crt", "-CAkey", "inter.key", "-CAcreateserial"].concat([
          "-days",
          "2",
          "-extfile",
          `${name}.ext`,
          "-out",
          `${name}.leaf.crt`,
        ]),
        dir,
      );
      const leafPem = readFileSync(join(dir, `${name}.leaf.crt`), "utf8");
      writeFileSync(join(dir, `${name}.crt`), leafPem + readFileSync(join(dir, "inter.crt"), "utf8"));
      const pfxPassword = `pfx-${name}-password`;
      openssl(
        ["pkcs12", "-export", "-in", `${name}.crt`, "-inkey", `${name}.key`, "-out", `${name}.pfx`].concat([
          "-passout",
          `pass:${pfxPassword}`,
        ]),
        dir,
      );
      return {
        certFile: join(dir, `${name}.crt`),
        keyFile: join(dir, `${name}.key`),
        pfxFile: join(dir, `${name}.pfx`),
        pfxPassword,
        leafPem,
      };
    },
  };
}
