/**
 * Print an scrypt hash for FAULTLINE_USERS:
 *   npx tsx app/_lib/auth/hash-password.ts 's3cret'
 *   FAULTLINE_USERS="alice:operator:<hash>,bob:viewer:<hash>"
 */
import { hashPassword } from './users.js';

const pw = process.argv[2];
if (!pw) {
  process.stderr.write('usage: tsx app/_lib/auth/hash-password.ts <password>\n');
  process.exit(2);
}
process.stdout.write(`${hashPassword(pw)}\n`);
