import { runContract } from './suite.js';
import { openTcpRedisDoor } from './doors/http-doors.js';
import { useRedisCluster } from '../helpers/redis.js';

const cluster = useRedisCluster();
runContract('redis-cluster', openTcpRedisDoor(() => ({ clusterNodes: cluster.current.nodeList })), { http: true, oneKeyTransactions: true });
