namespace PresenceGrid;

/// <summary>Anything that has a grain identity: grain references and grain instances.</summary>
public interface IAddressable
{
}

/// <summary>Marker for grain interfaces. Use <see cref="IGrainWithStringKey"/>.</summary>
public interface IGrain : IAddressable
{
}

/// <summary>
/// A grain interface whose grains are keyed by a string. The source generator emits a proxy for
/// every interface that derives from it; its methods must return <see cref="Task"/>,
/// <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>.
/// </summary>
public interface IGrainWithStringKey : IGrain
{
}

/// <summary>Creates typed, location-transparent grain references.</summary>
public interface IGrainFactory
{
    /// <summary>
    /// Gets a reference to the grain of interface <typeparamref name="TGrainInterface"/> with key
    /// <paramref name="key"/>. No call is made and nothing is activated until a method is called.
    /// The reference works the same from a client, from a grain and from another silo.
    /// </summary>
    /// <typeparam name="TGrainInterface">The grain interface.</typeparam>
    /// <param name="key">The grain's key.</param>
    /// <returns>The grain reference.</returns>
    TGrainInterface GetGrain<TGrainInterface>(string key)
        where TGrainInterface : IGrainWithStringKey;
}
