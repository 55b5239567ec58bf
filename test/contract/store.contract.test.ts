import { runContract } from './suite.js';
import { openStoreDoor } from './doors/store-door.js';

runContract('store', openStoreDoor);
