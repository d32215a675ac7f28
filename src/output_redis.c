/* output_redis: Traefik Redis KV output. (Placeholder.) */
typedef int output_redis_placeholder;
