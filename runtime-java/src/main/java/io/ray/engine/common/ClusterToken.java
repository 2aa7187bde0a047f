package io.ray.engine.common;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The cluster's token (Ray's token authentication): every gRPC call between the cluster's processes
 * carries {@code authorization: Bearer <token>}, and every server refuses a call without it ({@code
 * UNAUTHENTICATED}). The token comes from the environment ({@code RAY_AUTH_TOKEN}, set by whoever
 * starts the process); {@code RAY_AUTH_MODE=disabled} turns the check off, as in Ray.
 *
 * <p>Immutable; thread-safe.
 */
public final class ClusterToken {
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String MISSING =
      "Authentication token is missing or incorrect: this Ray cluster only takes calls from its"
          + " members. Give the cluster's token with RAY_AUTH_TOKEN (`ray get-auth-token` on the"
          + " head's machine prints it).";

  private final byte[] expected;
  private final String header;

  private ClusterToken(String token) {
    this.header = token == null ? null : "Bearer " + token;
    this.expected = header == null ? null : header.getBytes(StandardCharsets.US_ASCII);
  }

  /** The token this process was started with; a disabled one when auth is off or none given. */
  public static ClusterToken fromEnvironment() {
    String mode = System.getenv("RAY_AUTH_MODE");
    if (mode != null && mode.equalsIgnoreCase("disabled")) {
      return new ClusterToken(null);
    }
    String token = System.getenv("RAY_AUTH_TOKEN");
    return new ClusterToken(token == null || token.isEmpty() ? null : token);
  }

  public static ClusterToken of(String token) {
    return new ClusterToken(token);
  }

  public boolean enabled() {
    return header != null;
  }

  /** Adds the token to a channel's calls (nothing when disabled). */
  public ClientInterceptor clientInterceptor() {
    Metadata md = new Metadata();
    if (header != null) {
      md.put(AUTHORIZATION, header);
    }
    return MetadataUtils.newAttachHeadersInterceptor(md);
  }

  /** Refuses calls without the token (lets every call through when disabled). */
  public ServerInterceptor serverInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (expected != null && !matches(headers.get(AUTHORIZATION))) {
          call.close(Status.UNAUTHENTICATED.withDescription(MISSING), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
      }
    };
  }

  private boolean matches(String given) {
    return given != null
        && MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.US_ASCII));
  }
}
