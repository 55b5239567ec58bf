import { runContract } from './suite.js';
import { openTlsRawFrontDoor } from './doors/http-doors.js';

runContract('tls-raw-front', openTlsRawFrontDoor, { http: true });
