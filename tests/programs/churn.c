/* Process churn for the map-eviction test: N rounds, each a fresh server process
 * that accepts one connection and answers one request, and a fresh client process
 * that connects, sends the request and reads the answer. Every process exits right
 * after, so per-process kernel maps see 2N processes come and go.
 * Usage: churn N  (prints "port P" first, then "done N" when finished). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void serve_one(int listener)
{
    char byte;
    prctl(PR_SET_NAME, "churn-server");
    int conn = accept(listener, NULL, NULL);
    if (conn < 0 || recv(conn, &byte, 1, 0) != 1 || send(conn, "!", 1, 0) != 1)
        _exit(1);
    close(conn);
    _exit(0);
}

static void ask_once(struct sockaddr_in *address)
{
    char byte;
    prctl(PR_SET_NAME, "churn-client");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)address, sizeof(*address)) != 0)
        _exit(1);
    if (send(s, "?", 1, 0) != 1 || recv(s, &byte, 1, 0) != 1)
        _exit(1);
    close(s);
    _exit(0);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1000;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(address);
    if (bind(listener, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(listener, 64) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        perror("listen");
        return 1;
    }
    printf("port %d\n", ntohs(address.sin_port));
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t server = fork();
        if (server == 0)
            serve_one(listener);
        pid_t client = fork();
        if (client == 0)
            ask_once(&address);
        int status;
        waitpid(client, &status, 0);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        waitpid(server, &status, 0);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    printf("done %d failed %d\n", rounds, failed);
    return failed != 0;
}
