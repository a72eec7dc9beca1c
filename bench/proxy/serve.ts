/**
 * The fault proxy alone in its own process for the benchmark (the same
 * startFaultProxy that `faultline proxy` runs, without loading every CLI
 * command). Prints the API URL, stops on SIGTERM.
 */
import { startFaultProxy } from '../../chaos/proxy/index.js';

const fp = await startFaultProxy({ host: '127.0.0.1', port: 0 });
process.stdout.write(`fault proxy API on ${fp.url}\n`);
process.on('SIGTERM', () => void fp.close().then(() => process.exit(0)));
