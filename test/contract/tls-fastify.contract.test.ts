import { runContract } from './suite.js';
import { openTlsFastifyDoor } from './doors/http-doors.js';

runContract('tls-fastify', openTlsFastifyDoor, { http: true });
