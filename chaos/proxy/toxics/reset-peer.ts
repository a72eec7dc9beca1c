import type { TToxicModule } from './types.js';

/**
 * reset_peer: on the first chunk (or EOF) wait `timeout` ms, then abort the
 * connection with a TCP RST on both sockets; the data is dropped. Once
 * triggered it cannot be interrupted (Toxiproxy's wait has no interrupt
 * case either). Unlike Toxiproxy, the RST is sent even on links that were
 * open before the toxic was added (Toxiproxy sets SO_LINGER only at connect,
 * so those close with FIN).
 */
export const resetPeer: TToxicModule<{ timeout: number }> = {
  type: 'reset_peer',
  goStruct: 'ResetToxic',
  goInt: 'int64',
  attributes: { timeout: 0 },
  create(a, io) {
    let triggered = false;
    const trigger = (): void => {
      if (triggered) return;
      triggered = true;
      if (a.timeout <= 0) io.reset();
      else setTimeout(() => io.reset(), a.timeout);
    };
    return {
      write: trigger,
      end: trigger,
      stop: () => [],
      held: () => 0,
    };
  },
};
