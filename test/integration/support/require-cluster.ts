// Integration tests run against a real kube-apiserver. Without one they must fail, never skip.
if (!process.env.KUBECONFIG) {
  throw new Error(
    "integration tests need a real API server: KUBECONFIG is not set. Run them through `make test` " +
      "(which starts the local control plane) or `make cluster-up` and export the KUBECONFIG it prints.",
  );
}
