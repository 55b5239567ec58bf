import { runContract } from './suite.js';
import { openClientDoor } from './doors/client-door.js';

runContract('client', openClientDoor);
