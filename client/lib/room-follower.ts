/**
 * A client that follows its room (docs/architecture.md, "Direct connections"): matchmaking goes
 * through the gateway as ever, but the socket goes straight to the room's owner whenever the
 * gateway names the owner's public address (a node started with PUBLIC_URL), so no relay carries
 * its frames. On a drop it asks the gateway again before each of the SDK's retries, which carry
 * the SDK's reconnection token as always; with no address named, the socket goes through the
 * gateway, as a stock SDK's does.
 */
import { Client, type Room, type SeatReservation } from "@colyseus/sdk";
import { ownerAddress, withOrigin } from "./owner-address.ts";

export interface FollowOption {
  /**
   * Open the socket straight to the room's owner when the gateway names its public address (nodes
   * started with PUBLIC_URL), and look again on each reconnect. Off: every socket goes through the gateway.
   */
  readonly followRoom?: boolean;
}

/** The SDK's client for `url`, one that follows its room when asked to. */
export function clientFor(url: string, options: FollowOption): Client {
  return options.followRoom ? new RoomFollowingClient(url) : new Client(url);
}

export class RoomFollowingClient extends Client {
  /** The owner's address each seat reservation was given, looked up before it is consumed. */
  private readonly owners = new WeakMap<SeatReservation, string>();

  // The schema is passed on as it came; the SDK's own type for it is not exported.
  override async consumeSeatReservation<T>(reservation: SeatReservation, rootSchema?: any): Promise<Room<any, T>> {
    const owner = await this.ownerOf(reservation.roomId);
    if (owner) this.owners.set(reservation, owner);
    const room = await super.consumeSeatReservation<T>(reservation, rootSchema);
    this.follow(room, super.buildEndpoint(reservation));
    return room;
  }

  protected override buildEndpoint(reservation: SeatReservation, options: any = {}): string {
    const endpoint = super.buildEndpoint(reservation, options);
    const owner = this.owners.get(reservation);
    return owner ? withOrigin(endpoint, owner) : endpoint;
  }

  /** Where the room's socket goes now, as the gateway says; undefined for through the gateway. */
  private ownerOf(roomId: string): Promise<string | undefined> {
    const gateway = new URL(this.getHttpEndpoint());
    return ownerAddress(`${gateway.origin}${gateway.pathname.replace(/\/$/, "")}`, roomId);
  }

  /** Each of the SDK's reconnects dials wherever the gateway says the room is then; `viaGateway` is the socket's address through the gateway. */
  private follow(room: Room, viaGateway: string): void {
    const connection = room.connection;
    const reconnect = connection.reconnect.bind(connection);
    connection.reconnect = (params) => {
      void this.ownerOf(room.roomId).then((owner) => {
        connection.url = withOrigin(connection.url ?? viaGateway, owner ?? new URL(viaGateway).origin);
        reconnect(params);
      });
    };
  }
}
