"""Hostile and ordinary programs, one per language where the attack applies."""

from __future__ import annotations

HELLO = {
    "python": 'import sys\nprint("hello", sys.stdin.read().strip())',
    "javascript": 'const s = require("fs").readFileSync(0, "utf8").trim();\nconsole.log("hello " + s);',
    "c": '#include <stdio.h>\nint main(){char b[64]={0}; if(scanf("%63s", b)!=1) b[0]=0; printf("hello %s\\n", b); return 0;}',
    "cpp": '#include <iostream>\n#include <string>\nint main(){std::string s; std::cin >> s; std::cout << "hello " << s << std::endl;}',
    "java": 'import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner sc = new Scanner(System.in); '
            'String s = sc.hasNext() ? sc.next() : ""; System.out.println("hello " + s); } }',
    "rust": 'use std::io::Read;\nfn main(){ let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); '
            'println!("hello {}", s.trim()); }',
}

INFINITE_LOOP = {
    "python": "while True:\n    pass",
    "javascript": "let x = 0; while (true) { x++; }",
    "c": "int main(){ volatile unsigned long x = 0; for(;;) x++; }",
    "cpp": "int main(){ volatile unsigned long x = 0; for(;;) x++; }",
    "java": "public class Main { public static void main(String[] a) { long x = 0; while (true) { x++; } } }",
    "rust": "fn main(){ let mut x: u64 = 0; loop { unsafe { std::ptr::write_volatile(&mut x, x + 1); } } }",
}

MEMORY_BOMB = {
    "python": "a = []\nwhile True:\n    a.append(b'x' * 10_000_000 + bytes(len(a)))",
    "javascript": "const a = []; while (true) { a.push(Buffer.alloc(10_000_000, 1)); }",
    "c": "#include <stdlib.h>\n#include <string.h>\nint main(){ for(;;){ char *p = malloc(10000000); if(!p) return 3; memset(p, 1, 10000000);} }",
    "cpp": "#include <vector>\nint main(){ std::vector<std::vector<char>> v; for(;;) v.emplace_back(10000000, 1); }",
    "java": "import java.util.*;\npublic class Main { public static void main(String[] a) { List<byte[]> l = new ArrayList<>(); "
            "while (true) { byte[] b = new byte[10_000_000]; java.util.Arrays.fill(b, (byte)1); l.add(b); } } }",
    "rust": "fn main(){ let mut v: Vec<Vec<u8>> = Vec::new(); loop { v.push(vec![1u8; 10_000_000]); } }",
}

OUTPUT_FLOOD = {
    "python": "while True:\n    print('x' * 1000)",
    "javascript": "const s = 'x'.repeat(1000) + '\\n'; function go(){ while (process.stdout.write(s)) {} "
                  "process.stdout.once('drain', go); } go();",
    "c": "#include <stdio.h>\nint main(){ for(;;) puts(\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"); }",
    "cpp": "#include <iostream>\nint main(){ for(;;) std::cout << std::string(1000, 'x') << '\\n'; }",
    "java": "public class Main { public static void main(String[] a) { String s = \"x\".repeat(1000); while (true) System.out.println(s); } }",
    "rust": "fn main(){ let s = \"x\".repeat(1000); loop { println!(\"{}\", s); } }",
}


def connect(port: int) -> dict[str, str]:
    """Programs that try to reach a TCP listener on the host's loopback and say so."""
    return {
        "python": (
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    print('CONNECTED')\n"
            "except OSError as e:\n"
            "    print('blocked', e)\n"
        ),
        "javascript": (
            f"const s = require('net').connect({port}, '127.0.0.1');"
            "s.on('connect', () => { console.log('CONNECTED'); process.exit(0); });"
            "s.on('error', e => { console.log('blocked ' + e.code); process.exit(0); });"
        ),
        "c": (
            "#include <stdio.h>\n#include <string.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <arpa/inet.h>\n"
            "int main(){ int s = socket(AF_INET, SOCK_STREAM, 0); if (s < 0) { perror(\"blocked socket\"); return 0; }"
            f" struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_port = htons({port});"
            " a.sin_addr.s_addr = htonl(0x7f000001);"
            " if (connect(s, (struct sockaddr*)&a, sizeof a) == 0) puts(\"CONNECTED\"); else perror(\"blocked connect\"); return 0; }"
        ),
        "java": (
            "public class Main { public static void main(String[] a) { try { new java.net.Socket(\"127.0.0.1\", "
            f"{port}); System.out.println(\"CONNECTED\"); }} catch (Exception e) {{ System.out.println(\"blocked \" + e); }} }} }}"
        ),
    }


FORK_BOMB = {
    "python": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "c": "#include <unistd.h>\nint main(){ for(;;) fork(); }",
}

DAEMON = {
    "python": (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.close(1); os.close(2)\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    ),
    "c": (
        "#include <stdio.h>\n#include <unistd.h>\n"
        "int main(){ if (fork() == 0) { setsid(); if (fork() == 0) { sleep(60); } return 0; } puts(\"parent done\"); return 0; }"
    ),
}

# Sockets through io_uring's IORING_OP_SOCKET, around the seccomp rule on socket(2): raw
# syscalls, no liburing. Prints "<family> socket CREATED" for each socket the kernel made.
IO_URING_SOCKETS = r"""
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
int main(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = syscall(__NR_io_uring_setup, 4, &p);
  if (fd < 0) { printf("io_uring_setup refused %d\n", errno); return 0; }
  size_t len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq_len > len) len = cq_len;
  char *sq = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  char *cq = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq
      : mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) { puts("mmap failed"); return 0; }
  int kinds[3][3] = {{AF_INET, SOCK_DGRAM, 0}, {AF_INET6, SOCK_DGRAM, 0}, {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE}};
  const char *names[3] = {"AF_INET", "AF_INET6", "AF_NETLINK"};
  for (int i = 0; i < 3; i++) {
    unsigned *tail = (unsigned *)(sq + p.sq_off.tail), mask = *(unsigned *)(sq + p.sq_off.ring_mask);
    unsigned idx = *tail & mask;
    struct io_uring_sqe *e = &sqes[idx];
    memset(e, 0, sizeof *e);
    e->opcode = IORING_OP_SOCKET;
    e->fd = kinds[i][0];
    e->off = kinds[i][1];
    e->len = kinds[i][2];
    ((unsigned *)(sq + p.sq_off.array))[idx] = idx;
    __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
    if (syscall(__NR_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
      printf("io_uring_enter refused %d\n", errno);
      return 0;
    }
    unsigned *head = (unsigned *)(cq + p.cq_off.head);
    struct io_uring_cqe *c = (struct io_uring_cqe *)(cq + p.cq_off.cqes)
        + (*head & *(unsigned *)(cq + p.cq_off.ring_mask));
    if (c->res >= 0) printf("%s socket CREATED\n", names[i]);
    else printf("%s socket refused %d\n", names[i], -c->res);
    __atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
  }
  return 0;
}
"""


def exec_other_binaries(guesses: list[str]) -> str:
    """A C program that hunts for other programs' compiled binaries and runs each one it finds
    (every file named ``main`` in the visible file system but its own, then ``guesses``) for
    up to 0.3 s, and prints the output of any that answers with ``REFERENCE-``."""
    listed = ", ".join('"' + g.replace("\\", "\\\\").replace('"', '\\"') + '"' for g in guesses)
    return r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
static struct stat self;
static void run(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (st.st_dev == self.st_dev && st.st_ino == self.st_ino) return;
  printf("TRY %s\n", path);
  fflush(stdout);
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], 1);
    struct itimerval t = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &t, NULL);  /* kept across exec: loopers die */
    char *argv[] = {(char *)path, NULL};
    execv(path, argv);
    _exit(127);
  }
  close(fds[1]);
  char out[256] = {0};
  struct pollfd p = {fds[0], POLLIN, 0};
  if (poll(&p, 1, 500) > 0) read(fds[0], out, sizeof out - 1);
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
  close(fds[0]);
  if (strncmp(out, "REFERENCE-", 10) == 0) { printf("STOLE %s", out); exit(0); }
}
static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  static const char *skip[] = {"/proc", "/sys", "/dev", "/usr", "/etc", NULL};
  for (int i = 0; skip[i]; i++) if (strcmp(path, skip[i]) == 0) return FTW_SKIP_SUBTREE;
  if (flag == FTW_F && strcmp(path + ftw->base, "main") == 0) run(path);
  return FTW_CONTINUE;
}
int main(void) {
  stat("/proc/self/exe", &self);
  DIR *d = opendir("/cache");
  if (d) { struct dirent *e; while ((e = readdir(d))) if (e->d_name[0] != '.') printf("LISTED /cache/%s\n", e->d_name); closedir(d); }
  const char *guesses[] = {""" + listed + r""", NULL};
  for (int i = 0; guesses[i]; i++) run(guesses[i]);
  nftw("/", visit, 16, FTW_PHYS | FTW_ACTIONRETVAL);
  puts("search done");
  return 0;
}
"""
