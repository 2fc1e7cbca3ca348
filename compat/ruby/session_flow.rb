# frozen_string_literal: true

# Ruby row of the sessdb compatibility suite (issue 3): the redis-rack gem
# (Rack::Session::Redis, on redis-store and redis-rb) wrapping a tiny Rack app,
# driven in-process with Rack::MockRequest. Usage:
#
#   ruby compat/ruby/session_flow.rb PORT
#
# Prints "PASS ..." lines; on the first failure prints "FAIL ..." and exits 1.
#
# Tested with Debian 12 packages: ruby 3.1.2, ruby-rack 2.2.22,
# ruby-redis-rack 2.1.2, ruby-redis-store 1.9.0, ruby-redis 4.8.0.

require 'rack'
require 'rack/mock'
require 'rack/session/redis'
require 'redis'

# redis-store 1.9 runs SETNX+EXPIRE through the block-without-argument form of
# Redis#multi, which redis-rb 4.8 warns about on stderr; that is the library
# under test, not this script.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

PORT = Integer(ARGV.fetch(0) { abort 'usage: session_flow.rb PORT' })
NAMESPACE = 'rack:session'
EXPIRE_AFTER = 1234
COOKIE = 'rack.session'

def fail!(msg)
  puts "FAIL #{msg}"
  $stdout.flush
  exit 1
end

def pass(msg)
  puts "PASS #{msg}"
  $stdout.flush
end

def check(cond, msg)
  cond ? pass(msg) : fail!(msg)
end

# The Rack app: the path picks the action.
app = lambda do |env|
  req = Rack::Request.new(env)
  session = env['rack.session']
  body =
    case req.path_info
    when '/login'
      session[:user] = req.params.fetch('user', 'alice')
      'logged in'
    when '/whoami'
      session[:user].to_s
    when '/renew'
      env['rack.session.options'][:renew] = true
      session[:renewed] = true
      "renewed #{session[:user]}"
    when '/drop'
      env['rack.session.options'][:drop] = true
      'dropped'
    when '/destroy'
      session.destroy
      'destroyed'
    else
      return [404, { 'Content-Type' => 'text/plain' }, ['not found']]
    end
  [200, { 'Content-Type' => 'text/plain' }, [body]]
end

stack = Rack::Session::Redis.new(
  app,
  redis_server: "redis://127.0.0.1:#{PORT}/0/#{NAMESPACE}",
  expire_after: EXPIRE_AFTER
)
mock = Rack::MockRequest.new(stack)

plain = Redis.new(host: '127.0.0.1', port: PORT, db: 0)

# redis-rack stores the session under its private id ("2::" + SHA-256 of the
# public id from the cookie), behind redis-store's namespace.
def redis_key(public_id)
  "#{NAMESPACE}:#{Rack::Session::SessionId.new(public_id).private_id}"
end

def cookie_sid(res)
  raw = res['Set-Cookie']
  raw = raw.join("\n") if raw.is_a?(Array)
  return nil if raw.nil?
  raw.split("\n").each do |line|
    name, value = line.split(';', 2).first.split('=', 2)
    return value if name == COOKIE
  end
  nil
end

def request(mock, path, sid = nil)
  env = {}
  env['HTTP_COOKIE'] = "#{COOKIE}=#{sid}" if sid
  res = mock.get(path, env)
  fail!("#{path}: HTTP #{res.status}: #{res.body}") unless res.status == 200
  res
end

def check_ttl(plain, key, what)
  ttl = plain.ttl(key)
  check(ttl <= EXPIRE_AFTER && ttl > EXPIRE_AFTER - 5, "#{what}: TTL #{key} = #{ttl} (expire_after #{EXPIRE_AFTER})")
  pttl = plain.pttl(key)
  check(pttl <= EXPIRE_AFTER * 1000 && pttl > (EXPIRE_AFTER - 5) * 1000, "#{what}: PTTL #{key} = #{pttl}")
end

def check_gone(plain, key, what)
  check(plain.exists(key).zero? && plain.get(key).nil? && plain.ttl(key) == -2, "#{what}: #{key} is gone")
end

def stored_session(plain, key)
  raw = plain.get(key)
  fail!("no value stored at #{key}") if raw.nil?
  Marshal.load(raw) # redis-store's default serializer
end

begin
  pass "versions ruby #{RUBY_VERSION} rack #{Rack.release} redis-rack #{Gem.loaded_specs['redis-rack']&.version || '?'} " \
       "redis-store #{Redis::Store::VERSION} redis-rb #{Redis::VERSION}"
  plain.ping

  # 1. First request writes the session and sets the cookie.
  res = request(mock, '/login?user=alice')
  sid = cookie_sid(res)
  check(!sid.nil? && !sid.empty?, "login sets #{COOKIE} cookie (#{sid.inspect})")
  key = redis_key(sid)
  check(plain.exists(key) == 1, "login: #{key} exists")
  check(plain.exists(sid).zero? && plain.exists("#{NAMESPACE}:#{sid}").zero?, 'login: public id is not used as a key')
  check(stored_session(plain, key)['user'] == 'alice', 'login: stored session has user=alice')
  check_ttl(plain, key, 'login')

  # 2. Second request with the cookie reads it back.
  plain.expire(key, 100) # the read request must refresh the TTL (expire_after)
  res = request(mock, '/whoami', sid)
  check(res.body == 'alice', "whoami reads user back (#{res.body.inspect})")
  check(cookie_sid(res).nil? || cookie_sid(res) == sid, 'whoami keeps the session id')
  check_ttl(plain, key, 'whoami refresh')

  # 3. A request with :renew gets a new id; the old key is gone.
  res = request(mock, '/renew', sid)
  check(res.body == 'renewed alice', "renew keeps the data (#{res.body.inspect})")
  new_sid = cookie_sid(res)
  check(!new_sid.nil? && new_sid != sid, "renew issues a new id (#{new_sid.inspect})")
  check_gone(plain, key, 'renew: old key')
  new_key = redis_key(new_sid)
  check(plain.exists(new_key) == 1, "renew: #{new_key} exists")
  s = stored_session(plain, new_key)
  check(s['user'] == 'alice' && s['renewed'] == true, 'renew: new key holds the session')
  check_ttl(plain, new_key, 'renew')
  res = request(mock, '/whoami', sid)
  check(res.body == '', 'old id no longer reads the session')
  stray = cookie_sid(res)
  plain.del(redis_key(stray)) if stray # an empty session may have been written for it
  res = request(mock, '/whoami', new_sid)
  check(res.body == 'alice', 'new id reads the session')
  sid = new_sid
  key = new_key

  # 4. :drop deletes the key.
  res = request(mock, '/drop', sid)
  check(res.body == 'dropped', 'drop request served')
  check_gone(plain, key, 'drop')
  res = request(mock, '/whoami', sid)
  check(res.body == '', 'dropped session no longer reads back')
  stray = cookie_sid(res)
  plain.del(redis_key(stray)) if stray

  # 5. session.destroy deletes the key too.
  res = request(mock, '/login?user=bob')
  sid = cookie_sid(res)
  key = redis_key(sid)
  check(stored_session(plain, key)['user'] == 'bob', 'second login stored user=bob')
  res = request(mock, '/destroy', sid)
  check(res.body == 'destroyed', 'destroy request served')
  check_gone(plain, key, 'destroy: old key')
  # Rack's SessionHash#destroy deletes the session and (no :drop) continues
  # with a fresh, empty one under a new id.
  fresh = cookie_sid(res)
  check(!fresh.nil? && fresh != sid, "destroy issues a new id (#{fresh.inspect})")
  check(stored_session(plain, redis_key(fresh)).empty?, 'destroy: new id holds an empty session')
  plain.del(redis_key(fresh))
  res = request(mock, '/whoami', sid)
  check(res.body == '', 'destroyed session no longer reads back')
  stray = cookie_sid(res)
  plain.del(redis_key(stray)) if stray

  # 6. redis-store's SETNX-with-TTL path (MULTI / SETNX / EXPIRE / EXEC), used
  # by Rack::Session::Redis#generate_unique_sid for non-empty sessions.
  gen = stack.generate_unique_sid('user' => 'carol')
  gkey = redis_key(gen.public_id)
  check(stored_session(plain, gkey)['user'] == 'carol', 'generate_unique_sid: SETNX stored the session')
  check_ttl(plain, gkey, 'generate_unique_sid: EXPIRE in MULTI')
  stack.with { |c| c.del(gen.private_id) }
  check_gone(plain, gkey, 'generate_unique_sid cleanup')

  left = plain.keys("#{NAMESPACE}:*")
  check(left.empty?, "no session keys left behind (#{left.size})")

  pass 'redis-rack session flow done'
rescue SystemExit
  raise
rescue Exception => e # rubocop:disable Lint/RescueException
  fail!("#{e.class}: #{e.message}\n  #{e.backtrace.first(8).join("\n  ")}")
end
