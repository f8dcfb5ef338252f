/**
 * A client that follows its room (docs/architecture.md, "Direct connections"): matchmaking goes
 * through the gateway as ever, but the socket goes straight to the room's owner whenever the
 * gateway names the owner's public address (a node started with PUBLIC_URL), so no relay carries
 * its frames. On a drop it asks the gateway again before each of the SDK's retries, which carry
 * the SDK's reconnection token as always; with no address named, the socket goes through the
 * gateway, as a stock SDK's does. An address named but not reachable from where the player is (a
 * firewall, a PUBLIC_URL only the operator's network reaches, a ws:// one on an https page) costs
 * a failed dial, or DIRECT_DIAL_TIMEOUT_MS of one that hangs: the join is made again through the
 * gateway, and a retry after a failed direct one goes through the gateway while the gateway still
 * names that owner. Once the gateway has got through where the direct dial did not, this client
 * goes through the gateway to that address from then on.
 */
import { Client, CloseCode, type Room, type SeatReservation, ServerError } from "@colyseus/sdk";
import { DIRECT_DIAL_TIMEOUT_MS, ownerAddress, withOrigin } from "./owner-address.ts";

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
  /** The room the SDK created last: consumeSeatReservation makes it before its first await. */
  private created: Room | undefined;
  /** Owners' addresses a direct dial to failed where the gateway then got through: reached through the gateway. */
  private readonly unreachable = new Set<string>();

  // The schema is passed on as it came; the SDK's own type for it is not exported.
  override async consumeSeatReservation<T>(reservation: SeatReservation, rootSchema?: any): Promise<Room<any, T>> {
    const owner = await this.ownerOf(reservation.roomId);
    let room: Room<any, T>;
    if (owner && !this.unreachable.has(owner)) {
      this.owners.set(reservation, owner);
      try {
        room = await this.consumeDirect<T>(reservation, rootSchema);
      } catch (err) {
        // A room's refusal (a 4xxx close) would be the same through the gateway. Anything else is a
        // socket that never opened: refused or hung (an error event carries no code, then 1006), or
        // never tried (a ws:// address on an https page throws). The seat is still reserved on the
        // owner, which the gateway reaches.
        if (err instanceof ServerError && typeof err.code === "number" && err.code !== CloseCode.ABNORMAL_CLOSURE) throw err;
        this.owners.delete(reservation);
        room = await super.consumeSeatReservation<T>(reservation, rootSchema);
        this.unreachable.add(owner);
      }
    } else {
      room = await super.consumeSeatReservation<T>(reservation, rootSchema);
    }
    this.follow(room, super.buildEndpoint(reservation));
    return room;
  }

  override createRoom<T>(roomName: string, rootSchema?: any): Room<any, T> {
    const room = super.createRoom<T>(roomName, rootSchema);
    this.created = room;
    return room;
  }

  private async consumeDirect<T>(reservation: SeatReservation, rootSchema?: any): Promise<Room<any, T>> {
    this.created = undefined;
    const joining = super.consumeSeatReservation<T>(reservation, rootSchema);
    const room = this.created as Room | undefined;
    // Closing a socket that never opened fails it as a refused one does (no code, then 1006). An SDK
    // that made its room otherwise leaves the dial to the SDK's own course.
    const timer = room && setTimeout(() => room.connection.isOpen || room.connection.close(), DIRECT_DIAL_TIMEOUT_MS);
    try {
      return await joining;
    } finally {
      clearTimeout(timer);
    }
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
    const gateway = new URL(viaGateway).origin;
    // The owner the last attempt dialled straight; the SDK retries only after an attempt failed.
    let dialled: string | undefined;
    // An owner whose direct attempt failed while the gateway still names it: this attempt goes through the gateway.
    let suspect: string | undefined;
    let attempts = 0;
    room.onReconnect(() => {
      if (suspect !== undefined && dialled === undefined) this.unreachable.add(suspect);
      dialled = suspect = undefined;
    });
    connection.reconnect = (params) => {
      const attempt = ++attempts;
      const failed = dialled;
      void this.ownerOf(room.roomId).then((owner) => {
        suspect = owner !== undefined && owner === failed ? owner : undefined;
        dialled = owner !== undefined && owner !== failed && !this.unreachable.has(owner) ? owner : undefined;
        const dial = (origin: string) => {
          connection.url = withOrigin(connection.url ?? viaGateway, origin);
          reconnect(params);
        };
        if (dialled === undefined) return dial(gateway);
        try {
          dial(dialled);
        } catch {
          // Never tried (a ws:// address on an https page throws): through the gateway at once.
          this.unreachable.add(dialled);
          dialled = undefined;
          return dial(gateway);
        }
        // Only this attempt's socket: a later one has replaced it once the SDK retried.
        setTimeout(() => attempt !== attempts || connection.isOpen || connection.close(), DIRECT_DIAL_TIMEOUT_MS);
      });
    };
  }
}
