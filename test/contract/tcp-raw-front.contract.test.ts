import { runContract } from './suite.js';
import { openTcpRawFrontDoor } from './doors/http-doors.js';

runContract('tcp-raw-front', openTcpRawFrontDoor, { http: true });
