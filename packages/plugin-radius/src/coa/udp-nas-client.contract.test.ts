/** The UDP CoA/Disconnect client against the fake NAS, through core's NasClient contract suite. */
import { nasClientContract } from '@rgz/core/testing';
import { startFakeNas } from '../test-support/fake-nas.js';
import { UdpNasClient } from './udp-nas-client.js';

nasClientContract('rgz-udp', async () => {
  const nas = await startFakeNas();
  const client = new UdpNasClient();
  return {
    client,
    nas: nas.endpoint,
    answer: (...answers) => nas.answer(...answers),
    received: () => nas.received(),
    async close() {
      await client.close();
      await nas.close();
    },
  };
});
