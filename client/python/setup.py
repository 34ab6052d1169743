"""Builds ranker_client with its gRPC stubs, generated from proto/ranker.proto.

The stubs are never checked in: build_py runs grpc_tools' protoc on the repository's
proto/ranker.proto (two directories above this file; set RANKER_PROTO to use another copy)
and writes ranker_client/_proto/ranker_pb2.py and ranker_pb2_grpc.py into the build, with
ranker_pb2_grpc's import of ranker_pb2 made package-relative. Metadata is in pyproject.toml.
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
STUBS = ("ranker_pb2.py", "ranker_pb2_grpc.py")


def find_proto() -> Path:
    """proto/ranker.proto: $RANKER_PROTO, else the checkout's, found from this file."""
    proto = Path(os.environ.get("RANKER_PROTO") or HERE.parent.parent / "proto" / "ranker.proto")
    if not proto.is_file():
        sys.exit(f"ranker_client: {proto} not found; build from a checkout of the repository "
                 "or set RANKER_PROTO to proto/ranker.proto")
    return proto.resolve()


def generate_stubs(package_dir: Path) -> None:
    """Writes the stubs of proto/ranker.proto into package_dir/_proto."""
    proto = find_proto()
    root = proto.parent.parent  # protoc names the file proto/ranker.proto, as the C++ build does
    out = package_dir / "_proto"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{root}",
                        f"--python_out={tmp}", f"--grpc_python_out={tmp}",
                        str(proto.relative_to(root))], check=True, cwd=root)
        for name in STUBS:
            text = (Path(tmp) / "proto" / name).read_text()
            # protoc writes "from proto import ranker_pb2 as ..."; the stubs live in a package.
            text, fixed = re.subn(r"^from proto import ", "from . import ", text, flags=re.M)
            if name.endswith("_grpc.py") and fixed != 1:
                sys.exit(f"ranker_client: unexpected import of ranker_pb2 in {name}")
            (out / name).write_text(text)
    (out / "__init__.py").write_text('"""gRPC stubs of proto/ranker.proto, generated at build '
                                     'time by setup.py."""\n')


class BuildPyWithStubs(build_py):
    """build_py, plus the stubs: into the build, or the source tree for an editable install."""

    def run(self):
        super().run()
        editable = getattr(self, "editable_mode", False)
        generate_stubs(HERE / "ranker_client" if editable else
                       Path(self.build_lib) / "ranker_client")

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        package = Path(self.build_lib) / "ranker_client" / "_proto"
        return outputs + [str(package / name) for name in ("__init__.py",) + STUBS]


setup(cmdclass={"build_py": BuildPyWithStubs})
