"""Refuse program classes that could make the test's comparisons lie.

A HumanEval-X Java test compares with ``s.f(x).equals(expected)``: a program
returning an object whose ``equals`` is always true (an anonymous ArrayList,
a List proxy) would pass every test without computing anything. So, in an
assertion build, every class compiled from the program (its SourceFile is not
the test's file) is read here, and the build fails if one:

* declares ``equals(Object)`` or ``hashCode()``;
* refers to a member of java.lang.reflect (``Proxy``, ``Method.invoke``) or
  ``java.lang.invoke.MethodHandles`` / ``MethodHandle`` (lambdas and string
  concatenation use other bootstrap classes and stay allowed), defines classes
  at run time (``defineClass``, ``defineHiddenClass``), looks up members by
  name through ``java.lang.Class``, or touches ``sun.misc.Unsafe`` or
  ``jdk.internal``.

Only class files are read (the program never runs here). Usage:
``check_classes.py TEST_SOURCE_FILE CLASS_DIR``.
"""

from __future__ import annotations

import os
import struct
import sys

REFLECTIVE_CLASS_METHODS = {
    "forName", "getMethod", "getMethods", "getDeclaredMethod", "getDeclaredMethods", "getConstructor",
    "getConstructors", "getDeclaredConstructor", "getDeclaredConstructors", "getField", "getFields",
    "getDeclaredField", "getDeclaredFields", "newInstance",
}  # fmt: skip
FORBIDDEN_PREFIXES = ("java/lang/reflect/", "sun/misc/", "jdk/internal/", "java/lang/instrument/")
FORBIDDEN_CLASSES = {
    "java/lang/invoke/MethodHandles",
    "java/lang/invoke/MethodHandles$Lookup",
    "java/lang/invoke/MethodHandle",
}
FORBIDDEN_METHODS = {"defineClass", "defineHiddenClass"}
LYING = {("equals", "(Ljava/lang/Object;)Z"), ("hashCode", "()I")}


class ClassFile:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 8  # magic, minor, major
        count = self.u2()
        self.pool: list[tuple[int, object]] = [(0, None)] * count
        i = 1
        while i < count:
            tag = self.u1()
            if tag == 1:
                n = self.u2()
                self.pool[i] = (tag, self.data[self.pos : self.pos + n].decode("utf-8", "replace"))
                self.pos += n
            elif tag in (3, 4):
                self.pos += 4
            elif tag in (5, 6):
                self.pos += 8
                i += 1  # long and double take two slots
            elif tag in (7, 8, 16, 19, 20):
                self.pool[i] = (tag, self.u2())
            elif tag in (9, 10, 11, 12, 17, 18):
                self.pool[i] = (tag, (self.u2(), self.u2()))
            elif tag == 15:
                self.pool[i] = (tag, (self.u1(), self.u2()))
            else:
                raise ValueError(f"unknown constant pool tag {tag}")
            i += 1
        self.pos += 2  # access flags
        self.name = self.class_name(self.u2())
        self.pos += 2  # super class
        interfaces = self.u2()
        self.pos += 2 * interfaces
        self.skip_members()  # fields
        self.methods = self.members()
        self.source = ""
        for name, body in self.attributes():
            if name == "SourceFile":
                self.source = self.utf8(struct.unpack(">H", body)[0])

    def u1(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def u2(self) -> int:
        self.pos += 2
        value: int = struct.unpack_from(">H", self.data, self.pos - 2)[0]
        return value

    def utf8(self, index: int) -> str:
        return str(self.pool[index][1])

    def class_name(self, index: int) -> str:
        return self.utf8(int(self.pool[index][1]))  # type: ignore[call-overload]

    def attributes(self) -> list[tuple[str, bytes]]:
        found = []
        for _ in range(self.u2()):
            name = self.utf8(self.u2())
            length = struct.unpack_from(">I", self.data, self.pos)[0]
            self.pos += 4
            found.append((name, self.data[self.pos : self.pos + length]))
            self.pos += length
        return found

    def skip_members(self) -> None:
        self.members()

    def members(self) -> list[tuple[str, str]]:
        found = []
        for _ in range(self.u2()):
            self.pos += 2
            name, descriptor = self.utf8(self.u2()), self.utf8(self.u2())
            self.attributes()
            found.append((name, descriptor))
        return found

    def member_refs(self) -> list[tuple[str, str]]:
        refs = []
        for tag, value in self.pool:
            if tag in (9, 10, 11):
                class_index, name_type = value  # type: ignore[misc]
                owner = self.class_name(class_index)
                name = self.utf8(self.pool[name_type][1][0])  # type: ignore[index]
                refs.append((owner, name))
        return refs


def problems(cls: ClassFile) -> list[str]:
    found = [f"declares {name}{desc}" for name, desc in cls.methods if (name, desc) in LYING]
    for owner, name in cls.member_refs():
        if (
            owner.startswith(FORBIDDEN_PREFIXES)
            or owner in FORBIDDEN_CLASSES
            or name in FORBIDDEN_METHODS
            or (owner == "java/lang/Class" and name in REFLECTIVE_CLASS_METHODS)
        ):
            found.append(f"uses {owner.replace('/', '.')}.{name}")
    return found


def main() -> int:
    test_source, folder = sys.argv[1], sys.argv[2]
    bad = []
    for entry in sorted(os.listdir(folder)):
        if not entry.endswith(".class"):
            continue
        with open(os.path.join(folder, entry), "rb") as fh:
            cls = ClassFile(fh.read())
        if cls.source == test_source:
            continue
        bad += [f"class {cls.name.replace('/', '.')} {why}" for why in problems(cls)]
    for line in sorted(set(bad)):
        print(f"{line}: not allowed in a program under an assertion test (it could make the test's checks lie)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
