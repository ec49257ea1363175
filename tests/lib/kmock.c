/* kmock BROKERS TOPIC PARTITIONS BOOTSTRAP_FILE: a Kafka cluster for tests, librdkafka's mock
 * cluster in a process of its own (services.md §4).
 *
 * Creates BROKERS brokers on 127.0.0.1 (ephemeral ports) and TOPIC with PARTITIONS partitions
 * (replication factor min(3, BROKERS)), writes the bootstrap list to BOOTSTRAP_FILE (through a
 * temp name and rename, so a reader never sees half of it) and prints it. Then waits for signals:
 *
 *   SIGUSR1          every broker down (connections closed, new ones refused)
 *   SIGUSR2          every broker up again
 *   SIGTERM, SIGINT  destroy the cluster and exit 0
 *
 * The signals are blocked before librdkafka starts its threads (they inherit the mask), so only
 * sigwait sees them. Everything lives in memory; the mock's limits in services.md §4 apply.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int usage(void)
{
	fprintf(stderr, "usage: kmock BROKERS TOPIC PARTITIONS BOOTSTRAP_FILE\n");
	return 2;
}

/* Write text + '\n' to path via path.tmp and rename. */
static int publish(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static void set_brokers(rd_kafka_mock_cluster_t *mc, int brokers, int up)
{
	for (int id = 1; id <= brokers; id++) {
		if (up)
			rd_kafka_mock_broker_set_up(mc, id);
		else
			rd_kafka_mock_broker_set_down(mc, id);
	}
	fprintf(stderr, "kmock: brokers %s\n", up ? "up" : "down");
}

/* Until SIGTERM or SIGINT. */
static void serve_signals(rd_kafka_mock_cluster_t *mc, int brokers, const sigset_t *set)
{
	int sig;

	while (sigwait(set, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		set_brokers(mc, brokers, sig == SIGUSR2);
}

int main(int argc, char **argv)
{
	char err[512];
	sigset_t set;

	if (argc != 5)
		return usage();
	int brokers = atoi(argv[1]), partitions = atoi(argv[3]);
	if (brokers < 1 || partitions < 1)
		return usage();

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* The handle only hosts the cluster: its notice about no bootstrap.servers is noise. */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "kmock: %s\n", err);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	int rc = 1;
	if (!mc) {
		fprintf(stderr, "kmock: cannot create the mock cluster\n");
		goto out;
	}
	rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, argv[2], partitions,
							   brokers < 3 ? brokers : 3);
	if (e) {
		fprintf(stderr, "kmock: topic %s: %s\n", argv[2], rd_kafka_err2str(e));
	} else if (publish(argv[4], rd_kafka_mock_cluster_bootstraps(mc)) == 0) {
		printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
		fflush(stdout);
		serve_signals(mc, brokers, &set);
		rc = 0;
	}
	rd_kafka_mock_cluster_destroy(mc);
out:
	rd_kafka_destroy(rk);
	return rc;
}
