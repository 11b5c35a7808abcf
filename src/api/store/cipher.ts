import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * AES-256-GCM for objects stored at rest. The layout is version byte, 12-byte IV, 16-byte tag,
 * ciphertext, so a key rotation can add a version later without guessing.
 */
export class SecretCipher {
  private static readonly VERSION = 1;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`encryption key must be 32 bytes, got ${key.length}`);
  }

  /** The key from PAVE_ENCRYPTION_KEY (base64, 32 bytes) or from `file`, created with 0600 on first use. */
  static fromEnvOrFile(file: string, env = process.env.PAVE_ENCRYPTION_KEY): SecretCipher {
    if (env) return new SecretCipher(Buffer.from(env, 'base64'));
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    }
    return new SecretCipher(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  /** A copy of the key, for the store's own thread: it encrypts and decrypts there. */
  exportKey(): Uint8Array {
    return new Uint8Array(this.key);
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from([SecretCipher.VERSION]), iv, c.getAuthTag(), body]);
  }

  decrypt(blob: Buffer): string {
    if (blob[0] !== SecretCipher.VERSION) throw new Error(`unknown encryption format version ${blob[0]}`);
    const d = createDecipheriv('aes-256-gcm', this.key, blob.subarray(1, 13));
    d.setAuthTag(blob.subarray(13, 29));
    return Buffer.concat([d.update(blob.subarray(29)), d.final()]).toString('utf8');
  }
}
