using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace PresenceGrid.Cluster.Tests.Infrastructure;

/// <summary>Two connection contexts joined back to back by in-memory pipes: what one writes, the other reads.</summary>
public static class PipePair
{
    public static (DefaultConnectionContext Initiator, DefaultConnectionContext Acceptor) Create()
    {
        var toAcceptor = new Pipe();
        var toInitiator = new Pipe();
        var initiator = new DefaultConnectionContext("initiator", new Duplex(toInitiator.Reader, toAcceptor.Writer), new Duplex(toAcceptor.Reader, toInitiator.Writer));
        var acceptor = new DefaultConnectionContext("acceptor", new Duplex(toAcceptor.Reader, toInitiator.Writer), new Duplex(toInitiator.Reader, toAcceptor.Writer));
        return (initiator, acceptor);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
