#!/usr/bin/python3
"""rootfs.py DIR PACKAGES... [-- BINARIES...]

Copies into DIR the files of the installed Debian PACKAGES, the BINARIES
named (found on PATH), and every shared library they load (with the
loader), each under its real directory (the host may have merged /lib into
/usr/lib), keeping symlinks and adding what they point to. Documentation,
service files and PostgreSQL's JIT (which pulls in LLVM) are left out.
"""
import os
import re
import shutil
import subprocess
import sys

SKIP = re.compile(r'^/(usr/share/(doc|man|locale|lintian|bug)|etc/(init\.d|logrotate\.d|systemd)|lib/systemd|usr/lib/systemd)|/bitcode/|/llvmjit')


def main():
    dest = sys.argv[1]
    args = sys.argv[2:]
    pkgs, bins = (args[:args.index('--')], args[args.index('--') + 1:]) if '--' in args else (args, [])
    files = set()
    out = subprocess.run(['dpkg', '-L'] + pkgs, check=True, capture_output=True, text=True).stdout
    for f in out.splitlines():
        if f.startswith('/') and not SKIP.search(f) and (os.path.islink(f) or os.path.isfile(f)):
            files.add(f)
    for b in bins:
        p = shutil.which(b)
        if not p:
            sys.exit('rootfs: %s not found' % b)
        files.add(p)
    libs = set()
    for f in sorted(files):
        if os.path.islink(f) or not is_elf(f):
            continue
        r = subprocess.run(['ldd', f], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            m = re.search(r'=> (/\S+)', line) or re.match(r'\s*(/\S*ld-linux\S*)', line)
            if m:
                libs.add(m.group(1))
    for d in ('usr/bin', 'usr/lib', 'usr/lib64', 'usr/sbin', 'etc', 'tmp'):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    for top in ('bin', 'lib', 'lib64', 'sbin'):
        os.symlink('usr/' + top, os.path.join(dest, top))
    os.chmod(os.path.join(dest, 'tmp'), 0o1777)
    for f in sorted(files | libs):
        copy(f, dest)


def is_elf(path):
    with open(path, 'rb') as fh:
        return fh.read(4) == b'\x7fELF'


def real_dir(path):
    d = os.path.realpath(os.path.dirname(path)).lstrip('/')
    if d.split('/')[0] in ('bin', 'lib', 'lib64', 'sbin'):
        d = 'usr/' + d
    return d


def copy(path, dest):
    for p in (path, os.path.realpath(path)):
        d = os.path.join(dest, real_dir(p))
        os.makedirs(d, exist_ok=True)
        target = os.path.join(d, os.path.basename(p))
        if os.path.lexists(target):
            continue
        if os.path.islink(p):
            os.symlink(os.readlink(p), target)
        else:
            shutil.copy2(p, target)


if __name__ == '__main__':
    main()
