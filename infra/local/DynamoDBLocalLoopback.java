/*
 * Starts DynamoDB Local listening on one address (127.0.0.1) instead of every interface.
 *
 * DynamoDB Local has no bind-address option: its ServerRunner builds a Jetty Server from the port alone,
 * which listens on 0.0.0.0. This launcher builds the same server from the same command line
 * (ServerRunner.createServerFromCommandLineArgs), sets the host of its one connector before it starts,
 * and starts it. Telemetry is never configured, so nothing calls out.
 *
 * Run in Java's source-file mode (JEP 330), the jar and its libraries on the class path:
 *   java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* DynamoDBLocalLoopback.java <host> <DynamoDB Local options>
 */
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLocalLoopback {
  public static void main(String[] argv) throws Exception {
    if (argv.length < 1) {
      System.err.println("usage: DynamoDBLocalLoopback <host> [DynamoDB Local options]");
      System.exit(2);
    }
    String host = argv[0];
    String[] args = Arrays.copyOfRange(argv, 1, argv.length);

    CommandLineInput input = new CommandLineInput(args);
    if (!input.init()) return;
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);

    Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
    serverField.setAccessible(true);
    Server server = (Server) serverField.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local built no connector");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("unexpected connector " + connector.getClass().getName());
      }
      ((ServerConnector) connector).setHost(host);
    }

    proxy.start();
    System.out.println("DynamoDB Local listening on " + host + ":" + input.getPort());
    proxy.join();
  }
}
