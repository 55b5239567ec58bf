import { runContract } from './suite.js';
import { openTcpFastifyDoor } from './doors/http-doors.js';

runContract('tcp-fastify', openTcpFastifyDoor, { http: true });
