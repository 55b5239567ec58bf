import { runContract } from './suite.js';
import { openTcpRedisDoor } from './doors/http-doors.js';
import { useRedisServer } from '../helpers/redis.js';

const redis = useRedisServer();
runContract('redis', openTcpRedisDoor(() => ({ url: redis.current.url })), { http: true });
