#!/usr/bin/python3
"""client/python's RankerClient against the real ranker-server: the same ranking as the C++
client, errors raised with their gRPC code, UNAVAILABLE retried until the deadline or the
attempts run out. It imports the installed package (nothing is added to sys.path); run it
through python_package_test.sh, which installs it into a fresh virtual environment.
Usage: python_client_test.py BUILD_DIR (exit 77 = skipped, reason printed)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build"
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
try:
    import grpc
except ImportError as error:  # pragma: no cover - reported, never silent
    print(f"SKIPPED: {error} (scripts/install-deps.sh installs python3-grpcio and python3-protobuf)")
    sys.exit(77)
try:
    from ranker_client import RankerClient, RankerError
except ModuleNotFoundError as error:  # not installed; any other import error fails the test
    if error.name != "ranker_client":
        raise
    print("SKIPPED: ranker_client is not installed (tests/client/python_package_test.sh "
          "installs it into a virtual environment and runs this test with it)")
    sys.exit(77)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        store = os.path.join(cls.dir.name, "store")
        subprocess.run([os.path.join(BUILD, "model_store", "ranker-store"), "demo",
                        "--store", store, "--users", "200", "--items", "300", "--d", "8",
                        "--hidden", "8", "--ratio", "4"], check=True, stdout=subprocess.DEVNULL)
        cls.server = subprocess.Popen(
            [os.path.join(BUILD, "server", "ranker-server"), "--store", store,
             "--listen", "127.0.0.1:0", "--metrics_listen", "", "--admin_listen", ""],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in cls.server.stdout:
            match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                cls.target = f"127.0.0.1:{match.group(1)}"
                break
        else:
            raise RuntimeError("the server did not start")

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.dir.cleanup()

    def cpp_rank(self, *args):
        out = subprocess.run([os.path.join(BUILD, "client", "ranker-client"), "rank", "--json",
                              "--target", self.target, *args],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def test_ranks_equal_the_cpp_clients(self):
        with RankerClient(self.target) as ranker:
            for user, candidates in [(7, [1, 5, 9, 33, 120, 250]), (42, None), (199, [3, 4])]:
                result = ranker.rank(user, k=5, candidates=candidates)
                args = ["--user", str(user), "--k", "5"]
                if candidates:
                    args += ["--candidates", ",".join(map(str, candidates))]
                expected = self.cpp_rank(*args)
                self.assertEqual([item.item_id for item in result.items],
                                 [int(item["item_id"]) for item in expected["items"]])
                for item, want in zip(result.items, expected["items"]):
                    self.assertAlmostEqual(item.score, want["score"], places=5)
                self.assertEqual(result.model_version, int(expected["model_version"]))
                self.assertEqual(len(result.items), min(5, len(candidates or range(300))))
                self.assertEqual(result.model, "default")  # a single store's model
                self.assertEqual(result.version_label, "")

    def test_bad_requests_raise_with_their_grpc_code(self):
        with RankerClient(self.target) as ranker:
            with self.assertRaises(RankerError) as raised:
                ranker.rank(1, k=0)
            self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("k", raised.exception.message)
            self.assertEqual(raised.exception.attempts, 1)  # not retried
            with self.assertRaises(RankerError) as raised:
                ranker.rank(1, k=3, model_version=99)
            self.assertIn(raised.exception.code,
                          (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION))
            with self.assertRaises(RankerError) as raised:
                ranker.rank(1, k=3, model="nope")
            self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND)
            self.assertIn("no model 'nope'", raised.exception.message)
            with self.assertRaises(RankerError) as raised:
                ranker.rank(1, k=3, version_label="canary")
            self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_raw_garbage_is_invalid_argument_not_unimplemented(self):
        # A backend whose proto does not match sends bytes the server cannot parse: it must be
        # told so, not that the method does not exist.
        with grpc.insecure_channel(self.target) as channel:
            rank = channel.unary_unary("/ranker.v1.Ranker/Rank")  # raw bytes both ways
            for payload in [b"\x0f\x01\x02garbage", b"\x0a\xff\x01"]:
                with self.assertRaises(grpc.RpcError) as caught:
                    rank(payload, timeout=5)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertEqual(caught.exception.details(),
                                 "request could not be parsed as ranker.v1.RankRequest")

    def test_unavailable_is_retried_with_backoff_then_raised(self):
        # Nothing listens on port 1: every attempt is UNAVAILABLE.
        with RankerClient("127.0.0.1:1", attempts=3, backoff=0.05, timeout=5) as ranker:
            start = time.monotonic()
            with self.assertRaises(RankerError) as raised:
                ranker.rank(1, k=3)
            self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)
            self.assertEqual(raised.exception.attempts, 3)
            self.assertLess(time.monotonic() - start, 5)
        with RankerClient("127.0.0.1:1", attempts=1) as ranker:
            with self.assertRaises(RankerError) as raised:
                ranker.rank(1, k=3)
            self.assertEqual(raised.exception.attempts, 1)

    def test_tls_with_the_servers_ca_and_refused_with_another(self):
        certs = os.path.join(self.dir.name, "tls")
        os.makedirs(certs, exist_ok=True)

        def openssl(*args):
            subprocess.run(["/usr/bin/openssl", *args], check=True, capture_output=True)

        for name in ("ca", "other_ca"):  # two CAs: the server's, and one that signed nothing
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-keyout", f"{certs}/{name}.key",
                    "-out", f"{certs}/{name}.pem")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=ranker.test",
                "-keyout", f"{certs}/server.key", "-out", f"{certs}/server.csr")
        with open(f"{certs}/ext.cnf", "w") as ext:
            ext.write("subjectAltName=DNS:ranker.test\n")
        openssl("x509", "-req", "-in", f"{certs}/server.csr", "-CA", f"{certs}/ca.pem",
                "-CAkey", f"{certs}/ca.key", "-CAcreateserial", "-days", "1",
                "-extfile", f"{certs}/ext.cnf", "-out", f"{certs}/server.pem")
        server = subprocess.Popen(
            [os.path.join(BUILD, "server", "ranker-server"),
             "--store", os.path.join(self.dir.name, "store"), "--listen", "127.0.0.1:0",
             "--metrics_listen", "", "--admin_listen", "",
             "--tls_cert", f"{certs}/server.pem", "--tls_key", f"{certs}/server.key"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            target = None
            for line in server.stdout:
                match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
                if match:
                    target = f"127.0.0.1:{match.group(1)}"
                    break
            self.assertIsNotNone(target)
            with RankerClient(target, tls_ca=f"{certs}/ca.pem", server_name="ranker.test") as ranker:
                self.assertEqual(len(ranker.rank(7, k=3).items), 3)
            with RankerClient(target, tls_ca=f"{certs}/other_ca.pem", server_name="ranker.test",
                              attempts=1, timeout=3) as ranker:
                with self.assertRaises(RankerError) as raised:
                    ranker.rank(7, k=3)
                self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)
            with RankerClient(target, attempts=1, timeout=3) as plaintext:  # no TLS at all
                with self.assertRaises(RankerError):
                    plaintext.rank(7, k=3)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def test_options_are_checked(self):
        with self.assertRaises(ValueError):
            RankerClient(self.target, attempts=0)
        with self.assertRaises(ValueError):
            RankerClient(self.target, tls_cert="c.pem")
        with self.assertRaises(ValueError):
            RankerClient(self.target, lb="random")

    def test_example_script_prints_the_ranking(self):
        # The installed package, not the source tree: no PYTHONPATH, run from elsewhere.
        env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        out = subprocess.run([sys.executable, os.path.join(SOURCE, "client", "python", "example.py"),
                              "--target", self.target, "--user", "7", "--k", "3"],
                             check=True, capture_output=True, text=True, env=env,
                             cwd=self.dir.name).stdout
        self.assertIn("model version 1", out)
        self.assertEqual(len([l for l in out.splitlines() if " item " in l]), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
