using Orleans.Serialization.Cloning;
using PresenceGrid.Matrix;

namespace PresenceGrid.Serialization;

// The Matrix types stay free of Orleans for module authors (PresenceGrid.Abstractions has no Orleans reference):
// they cross grain calls and silos through these surrogates. All of them are immutable, so a call inside a silo
// passes them as they are (the copiers return their input) instead of deep-copying every fan-out batch.

/// <summary>The wire form of a <see cref="UserId"/>: its string.</summary>
[GenerateSerializer, Immutable, Alias("pg.UserId")]
internal readonly struct UserIdSurrogate(string value)
{
    [Id(0)]
    public readonly string Value = value;
}

[RegisterConverter]
internal sealed class UserIdConverter : IConverter<UserId, UserIdSurrogate>
{
    public UserId ConvertFromSurrogate(in UserIdSurrogate surrogate) => UserId.Parse(surrogate.Value);

    public UserIdSurrogate ConvertToSurrogate(in UserId value) => new(value.ToString());
}

[RegisterCopier]
internal sealed class UserIdCopier : ShallowCopier<UserId>;

/// <summary>The wire form of a <see cref="UserPresenceState"/>: its seven fields, the presence as its number.</summary>
[GenerateSerializer, Immutable, Alias("pg.UserPresenceState")]
internal readonly struct UserPresenceStateSurrogate(UserPresenceState state)
{
    [Id(0)]
    public readonly string UserId = state.UserId.ToString();

    [Id(1)]
    public readonly byte State = (byte)state.State;

    [Id(2)]
    public readonly long LastActiveTs = state.LastActiveTs;

    [Id(3)]
    public readonly long LastFederationUpdateTs = state.LastFederationUpdateTs;

    [Id(4)]
    public readonly long LastUserSyncTs = state.LastUserSyncTs;

    [Id(5)]
    public readonly string? StatusMsg = state.StatusMsg;

    [Id(6)]
    public readonly bool CurrentlyActive = state.CurrentlyActive;

    public UserPresenceState ToState() =>
        new(Matrix.UserId.Parse(UserId), PresenceStateSurrogates.FromByte(State), LastActiveTs, LastFederationUpdateTs, LastUserSyncTs, StatusMsg, CurrentlyActive);
}

[RegisterConverter]
internal sealed class UserPresenceStateConverter : IConverter<UserPresenceState, UserPresenceStateSurrogate>
{
    public UserPresenceState ConvertFromSurrogate(in UserPresenceStateSurrogate surrogate) => surrogate.ToState();

    public UserPresenceStateSurrogate ConvertToSurrogate(in UserPresenceState value) => new(value);
}

[RegisterCopier]
internal sealed class UserPresenceStateCopier : ShallowCopier<UserPresenceState>;

/// <summary>The wire form of a <see cref="FederationPresenceUpdate"/>.</summary>
[GenerateSerializer, Immutable, Alias("pg.FederationPresenceUpdate")]
internal readonly struct FederationPresenceUpdateSurrogate(FederationPresenceUpdate update)
{
    [Id(0)]
    public readonly string UserId = update.UserId.ToString();

    [Id(1)]
    public readonly byte State = (byte)update.State;

    [Id(2)]
    public readonly long? LastActiveAgo = update.LastActiveAgo;

    [Id(3)]
    public readonly string? StatusMsg = update.StatusMsg;

    [Id(4)]
    public readonly bool CurrentlyActive = update.CurrentlyActive;
}

[RegisterConverter]
internal sealed class FederationPresenceUpdateConverter : IConverter<FederationPresenceUpdate, FederationPresenceUpdateSurrogate>
{
    public FederationPresenceUpdate ConvertFromSurrogate(in FederationPresenceUpdateSurrogate surrogate) =>
        new(UserId.Parse(surrogate.UserId), PresenceStateSurrogates.FromByte(surrogate.State), surrogate.LastActiveAgo, surrogate.StatusMsg, surrogate.CurrentlyActive);

    public FederationPresenceUpdateSurrogate ConvertToSurrogate(in FederationPresenceUpdate value) => new(value);
}

[RegisterCopier]
internal sealed class FederationPresenceUpdateCopier : ShallowCopier<FederationPresenceUpdate>;

/// <summary>The presence value as it crosses the wire.</summary>
internal static class PresenceStateSurrogates
{
    /// <summary>The presence a byte stands for; an unknown one (a newer silo's) is refused.</summary>
    public static PresenceState FromByte(byte value) => value <= (byte)PresenceState.Busy
        ? (PresenceState)value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "not a presence value this silo knows.");
}
