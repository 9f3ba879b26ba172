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
