package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Socket.IO 4 (Engine.IO v4 over a plain WebSocket, no polling): the server opens with {@code 0{…}}, the client
 * connects to the default namespace with {@code 40{"channel":C}} (the server's connection handler joins room C),
 * events arrive as {@code 42["m",data]}, pings {@code 2} are answered {@code 3}. Publishers send
 * {@code 42["pub",C,data]}; the server emits to the room.
 */
final class SocketIoProtocol implements Protocol {
  @Override
  public String name() {
    return "socketio";
  }

  @Override
  public String path(String channel) {
    return "/socket.io/?EIO=4&transport=websocket";
  }

  @Override
  public Session session(Conn conn) {
    return new Session(conn) {
      private Promise<JsonObject> connected = Promise.promise();

      @Override
      Future<JsonObject> start(boolean recover) {
        return connected.future();
      }

      @Override
      void onFrame(Buffer frame, long nowMicros) {
        if (frame.length() == 0) return;
        byte engine = frame.getByte(0);
        if (engine == '2') {
          conn.send("3");
          return;
        }
        if (engine == '0') {
          // Engine.IO open: connect to the default namespace, naming the room in the auth payload
          conn.send(conn.channel == null ? "40" : "40{\"channel\":\"" + conn.channel + "\"}");
          return;
        }
        if (engine != '4' || frame.length() < 2) return;
        byte packet = frame.getByte(1);
        if (packet == '2') {
          conn.delivered(Frames.longValue(frame, Frames.TS), Frames.longValue(frame, Frames.SEQ), nowMicros);
        } else if (packet == '0') {
          connected.tryComplete(new JsonObject());
        } else if (packet == '4') {
          connected.tryFail("socket.io connect error: " + frame);
        }
      }

      @Override
      void publish(String channel, String data, long nowMicros) {
        conn.send("42[\"pub\",\"" + channel + "\"," + data + "]");
      }
    };
  }

  @Override
  public boolean acksPublishes() {
    return false;
  }

  @Override
  public boolean recovers() {
    return false;
  }
}
