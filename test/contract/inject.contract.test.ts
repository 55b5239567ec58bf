import { runContract } from './suite.js';
import { openInjectDoor } from './doors/http-doors.js';

runContract('inject', openInjectDoor, { http: true });
